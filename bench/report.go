package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// summary is a scenario's runs reduced to one table line: the median of
// each figure over the runs (with two runs, their mean).
type summary struct {
	Name       string
	RPS        float64
	P50, P99   float64 // ms
	Runs       []float64
	Requests   int
	WriteTx    int64   // bbolt write txs during the runs, flushes included
	WtxPer1k   float64 // WriteTx per 1,000 requests
	Flushes    int64   // timer flushes during the runs
	CPUPerReq  float64 // µs of this process's CPU per request
	BytesPer   int64   // response body bytes per request
	Errors     int
	Exhausted  bool
	FirstError string
}

// summarize reduces each scenario's runs to a summary, in table order.
func summarize(scenarios []scenario, results map[string][]measurement) []summary {
	var out []summary
	for _, sc := range scenarios {
		runs := results[sc.name]
		s := summary{Name: sc.name}
		var rps, p50, p99 []float64
		var reqs int
		var cpu time.Duration
		var bytes int64
		for _, m := range runs {
			rps = append(rps, m.rate())
			p50, p99 = append(p50, ms(m.P50)), append(p99, ms(m.P99))
			reqs += m.Requests
			s.WriteTx += m.WriteTx
			s.Flushes += m.Flushes
			cpu += m.CPU
			bytes += m.Bytes
			s.Errors += m.Errors
			s.Exhausted = s.Exhausted || m.Exhausted
			if s.FirstError == "" {
				s.FirstError = m.FirstErr
			}
		}
		s.Runs = rps
		s.RPS, s.P50, s.P99 = median(rps), median(p50), median(p99)
		s.Requests = reqs
		if reqs > 0 {
			s.WtxPer1k = 1000 * float64(s.WriteTx) / float64(reqs)
			s.CPUPerReq = float64(cpu.Microseconds()) / float64(reqs)
			s.BytesPer = bytes / int64(reqs)
		}
		out = append(out, s)
	}
	return out
}

// median of v; the mean of the middle two for an even count.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// find is the named scenario's summary.
func find(sums []summary, name string) (summary, bool) {
	i := slices.IndexFunc(sums, func(s summary) bool { return s.Name == name })
	if i < 0 {
		return summary{}, false
	}
	return sums[i], true
}

// printTable prints the result table: the five columns asked for, then
// the supporting ones.
func printTable(out io.Writer, cfg config, scenarios []scenario, sums []summary) {
	bare, _ := find(sums, "bare")
	fmt.Fprintf(out, "\n%d workers, %s, %s per run, %d runs alternating order; figures are medians over runs\n",
		cfg.Workers, cfg.loop(), cfg.Duration, cfg.Runs)
	fmt.Fprintf(out, "%-30s %9s %8s %8s %14s | %8s %9s %8s %7s %11s %7s  %s\n",
		"scenario", "req/s", "p50_ms", "p99_ms", "ratio_vs_bare", "p99/bare", "cpu_ratio", "wtx/1k", "flushes", "cpu_us/req", "bytes", "req/s per run")
	for _, s := range sums {
		ratio, p99r, cpur := 0.0, 0.0, 0.0
		if bare.RPS > 0 && s.CPUPerReq > 0 {
			ratio, p99r, cpur = s.RPS/bare.RPS, s.P99/bare.P99, bare.CPUPerReq/s.CPUPerReq
		}
		var runs []string
		for _, r := range s.Runs {
			runs = append(runs, fmt.Sprintf("%.0f", r))
		}
		fmt.Fprintf(out, "%-30s %9.0f %8.2f %8.2f %14.2f | %8.2f %9.2f %8.2f %7d %11.1f %7d  %s%s\n",
			s.Name, s.RPS, s.P50, s.P99, ratio, p99r, cpur, s.WtxPer1k, s.Flushes, s.CPUPerReq, s.BytesPer, strings.Join(runs, " / "), s.flag())
	}
	fmt.Fprintln(out, "\ncpu_ratio: bare's cpu_us/req over the scenario's: the throughput ratio if both were CPU-bound; steadier than ratio_vs_bare when other work competes for the CPUs.")
	fmt.Fprintln(out, "wtx/1k: bbolt write transactions (store.WriteTxCount) per 1,000 requests, including the timer's last-active flushes (counted under flushes).")
	fmt.Fprintf(out, "cpu_us/req: CPU time of the benchmark process per request (%s).\n", cpuScope(cfg))
	for _, sc := range scenarios {
		fmt.Fprintf(out, "  %-30s %s\n", sc.name, sc.about)
	}
}

func cpuScope(cfg config) string {
	if cfg.Pin {
		return "the servers only: the load generator is another process"
	}
	return "servers and load generator together"
}

func (s summary) flag() string {
	var notes []string
	if s.Exhausted {
		notes = append(notes, "prepared sessions ran out before -d: rate is over the time they lasted")
	}
	if s.Errors > 0 {
		notes = append(notes, fmt.Sprintf("%d errors, first: %s", s.Errors, s.FirstError))
	}
	if len(notes) == 0 {
		return ""
	}
	return "  [" + strings.Join(notes, "; ") + "]"
}

func printHeap(out io.Writer, heap []heapUse) {
	fmt.Fprintln(out, "\nheap (runtime.MemStats after GC) in a fresh process per store, after serving -d of auth-fragment and then list-100:")
	fmt.Fprintf(out, "  %-12s %12s %16s %12s\n", "", "HeapInuse", "of which store", "HeapAlloc")
	for _, h := range heap {
		fmt.Fprintf(out, "  %-12s %8.1f MiB %12.1f MiB %8.1f MiB  (%d other sessions)\n", h.Label,
			mib(int64(h.InuseAfter)), mib(h.added()), mib(int64(h.AllocAfter)), h.Sessions)
	}
	fmt.Fprintln(out, "  (of which store: HeapInuse after minus before opening the store, in the same process)")
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// printTargets judges the targets from the medians. In an open
// loop every scenario that keeps up runs at the offered rate, so req/s
// says nothing: the throughput targets are then left unjudged, and the
// 1M comparison uses CPU per request in place of req/s.
func printTargets(out io.Writer, sums []summary, heap []heapUse, open bool) {
	fmt.Fprintln(out, "\ntargets:")
	verdict := func(ok bool) string {
		if ok {
			return "MET    "
		}
		return "NOT MET"
	}
	throughput := func(ok bool) string {
		if open {
			return "n/a    "
		}
		return verdict(ok)
	}
	bare, okB := find(sums, "bare")
	frag, okF := find(sums, "auth-fragment")
	sess, okS := find(sums, "fiber-session-memory")
	if okB && okF {
		r := frag.RPS / bare.RPS
		fmt.Fprintf(out, "  %s auth-fragment req/s >= 0.8x bare: %.2fx (by CPU per request: %.2fx)\n", throughput(r >= 0.8), r, bare.CPUPerReq/frag.CPUPerReq)
		p := frag.P99 / bare.P99
		fmt.Fprintf(out, "  %s auth-fragment p99 <= 1.5x bare's: %.2fx (%.2f ms vs %.2f ms)\n", verdict(p <= 1.5), p, frag.P99, bare.P99)
	}
	if okF && okS {
		r := frag.RPS / sess.RPS
		fmt.Fprintf(out, "  %s auth-fragment req/s >= 2x fiber-session-memory: %.2fx (by CPU per request: %.2fx)\n", throughput(r >= 2), r, sess.CPUPerReq/frag.CPUPerReq)
	}
	for _, s := range sums {
		if s.Name == "bare" || s.Name == "fiber-session-memory" || strings.HasPrefix(s.Name, "revoke-") {
			continue
		}
		byRequests := s.WriteTx - s.Flushes
		fmt.Fprintf(out, "  %s zero write txs per authenticated request, %s: %d write txs in %d requests, %d of them timer flushes\n",
			verdict(byRequests <= 0), s.Name, s.WriteTx, s.Requests, s.Flushes)
	}
	printPartnerTargets(out, sums, open, verdict, throughput)
	printActivityTargets(out, sums, throughput)
	for _, pair := range [][2]string{{"auth-fragment", "auth-fragment-1M"}, {"list-100", "list-100-1M"}} {
		small, ok1 := find(sums, pair[0])
		big, ok2 := find(sums, pair[1])
		if !ok1 || !ok2 {
			continue
		}
		slow, p99, cpu := small.RPS/big.RPS, big.P99/small.P99, big.CPUPerReq/small.CPUPerReq
		if open {
			slow = cpu
		}
		fmt.Fprintf(out, "  %s %s within 1.2x of %s: req/s %.2fx slower, p99 %.2fx (CPU per request %.2fx)\n",
			verdict(slow <= 1.2 && p99 <= 1.2), pair[1], pair[0], small.RPS/big.RPS, p99, cpu)
	}
	if len(heap) == 2 {
		small, big := heap[0], heap[1]
		r := float64(big.InuseAfter) / float64(small.InuseAfter)
		fmt.Fprintf(out, "  %s heap independent of stored sessions: HeapInuse %.1f MiB with %d other sessions vs %.1f MiB without (%.2fx)\n",
			verdict(r <= 1.2), mib(int64(big.InuseAfter)), big.Sessions, mib(int64(small.InuseAfter)), r)
	}
}
