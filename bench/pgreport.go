package main

import (
	"fmt"
	"io"
)

// printPGTargets judges issue 18's targets from the -db postgres medians:
// auth-fragment on PostgreSQL at 0.8x of bbolt's or better, the read
// scenarios without a write, list-100 flat with a million other sessions,
// and the revokes side by side (no target: reported).
func printPGTargets(out io.Writer, sums []summary, open bool) {
	fmt.Fprintln(out, "\ntargets (issue 18):")
	throughput := func(ok bool) string {
		if open {
			return "n/a    "
		}
		return verdictOf(ok)
	}
	pair := func(bb, pg string) (summary, summary, bool) {
		b, ok1 := find(sums, bb)
		p, ok2 := find(sums, pg)
		return b, p, ok1 && ok2 && b.RPS > 0 && p.CPUPerReq > 0
	}
	if b, p, ok := pair("auth-fragment", "auth-fragment-pg"); ok {
		r := p.RPS / b.RPS
		fmt.Fprintf(out, "  %s auth-fragment on PostgreSQL >= 0.8x of bbolt's req/s: %.2fx (%.0f vs %.0f req/s; p99 %.2f vs %.2f ms; by CPU per request %.2fx)\n",
			throughput(r >= 0.8), r, p.RPS, b.RPS, p.P99, b.P99, b.CPUPerReq/p.CPUPerReq)
	}
	for _, name := range []string{"auth-fragment-pg", "list-100-pg", "list-100-1M-pg"} {
		if s, ok := find(sums, name); ok {
			byRequests := s.WriteTx - s.Flushes
			fmt.Fprintf(out, "  %s zero write transactions per authenticated request, %s: %d in %d requests, %d of them timer flushes\n",
				verdictOf(byRequests <= 0), name, s.WriteTx, s.Requests, s.Flushes)
		}
	}
	if small, big, ok := pair("list-100-pg", "list-100-1M-pg"); ok {
		slow, p99, cpu := small.RPS/big.RPS, big.P99/small.P99, big.CPUPerReq/small.CPUPerReq
		if open {
			slow = cpu
		}
		fmt.Fprintf(out, "  %s list-100-1M-pg within 1.2x of list-100-pg: req/s %.2fx slower, p99 %.2fx (CPU per request %.2fx)\n",
			verdictOf(slow <= 1.2 && p99 <= 1.2), small.RPS/big.RPS, p99, cpu)
	}
	if b, p, ok := pair("list-100", "list-100-pg"); ok {
		fmt.Fprintf(out, "  (reported) list-100 on PostgreSQL: %.2fx of bbolt's req/s, p99 %.2f vs %.2f ms\n", p.RPS/b.RPS, p.P99, b.P99)
	}
	for _, name := range []string{"revoke-one", "revoke-all-99"} {
		if b, p, ok := pair(name, name+"-pg"); ok {
			fmt.Fprintf(out, "  (reported) %s: bbolt %.0f req/s p99 %.2f ms, PostgreSQL %.0f req/s p99 %.2f ms (%.2fx the req/s, %.2fx the p99)\n",
				name, b.RPS, b.P99, p.RPS, p.P99, p.RPS/b.RPS, p.P99/b.P99)
		}
	}
}
