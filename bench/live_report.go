package main

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// Targets of issue 17.
const (
	maxBytesPerStream = 32 << 10
	maxEndP99         = 50 * time.Millisecond
	maxRevokeCost     = 1.2
)

// perStream is how much more of m the server held with the streams open,
// per stream.
func (r liveResult) perStream(m func(memUse) uint64) float64 {
	if r.Open.Opened == 0 {
		return 0
	}
	return (float64(m(r.After)) - float64(m(r.Before))) / float64(r.Open.Opened)
}

func rssOf(m memUse) uint64       { return m.RSS }
func heapStackOf(m memUse) uint64 { return m.HeapInuse + m.StackInuse }
func heapOf(m memUse) uint64      { return m.HeapInuse }
func stackOf(m memUse) uint64     { return m.StackInuse }

// endLatency is the sorted revoke-to-end latencies' p50, p99 and max, and
// how many end events came before the revoke's response.
func (r liveResult) endLatency() (p50, p99, worst time.Duration, early int) {
	lat := slices.Clone(r.With.Latencies)
	slices.Sort(lat)
	for _, l := range lat {
		if l < 0 {
			early++
		}
	}
	if len(lat) > 0 {
		worst = lat[len(lat)-1]
	}
	return percentile(lat, 0.50), percentile(lat, 0.99), worst, early
}

// revokeCost is the CPU per revoke of phase over the mean of the two
// runs with no stream open.
func (r liveResult) revokeCost(phase revokePhase) float64 {
	none := (r.NoneBefore.cpuPerRevoke() + r.NoneAfter.cpuPerRevoke()) / 2
	if none <= 0 {
		return 0
	}
	return float64(phase.cpuPerRevoke()) / float64(none)
}

// printLive prints the live measurement's figures.
func printLive(out io.Writer, r liveResult) {
	fmt.Fprintf(out, "\nlive updates (issue 17): %d streams of %d users (%d each) on one portal, clients in a child process (raw TCP, one goroutine and a %d-byte buffer per stream)",
		r.Open.Opened, r.Users, streamsPerUser, sseBufSize)
	if r.Pinned != "" {
		fmt.Fprintf(out, "; %s", r.Pinned)
	}
	fmt.Fprintln(out)
	if r.Limits != "" {
		fmt.Fprintf(out, "  %s\n", r.Limits)
	}
	kib := func(b float64) float64 { return b / 1024 }
	fmt.Fprintf(out, "  server memory per stream (after two GCs, freed pages returned): RSS %.1f KiB (%.1f -> %.1f MiB); Go heap+stacks %.1f KiB (heap %.1f, stacks %.1f); goroutines %d -> %d\n",
		kib(r.perStream(rssOf)), mib(int64(r.Before.RSS)), mib(int64(r.After.RSS)),
		kib(r.perStream(heapStackOf)), kib(r.perStream(heapOf)), kib(r.perStream(stackOf)), r.Before.Goroutines, r.After.Goroutines)
	hbCPU := r.HeartbeatCPU - time.Duration(float64(r.IdleCPU)*r.HeartbeatWindow.Seconds()/max(r.IdleWindow.Seconds(), 1e-9))
	perBeat := 0.0
	if r.Heartbeats > 0 {
		perBeat = us(hbCPU) / float64(r.Heartbeats)
	}
	fmt.Fprintf(out, "  server CPU idle with a heartbeat every %s: %.2f%% of one CPU over %s (%d heartbeats read, %.1f µs of CPU each beyond idle); without streams %.2f%%\n",
		r.Heartbeat, pct(r.HeartbeatCPU, r.HeartbeatWindow), r.HeartbeatWindow, r.Heartbeats, perBeat, pct(r.IdleCPU, r.IdleWindow))
	p50, p99, worst, early := r.endLatency()
	fmt.Fprintf(out, "  revoke response to the revoked stream's end event, %d revokes offered at %.0f/s: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d came before the response, %d never came, %d errors)\n",
		len(r.With.Latencies)+r.With.Missing, r.Rate, ms(p50), ms(p99), ms(worst), early, r.With.Missing, r.With.Errors)
	fmt.Fprintf(out, "  server CPU per revoke: %.0f µs with no stream open, %.0f µs with the streams of others open (%.2fx), %.0f µs with none again\n",
		us(r.NoneBefore.cpuPerRevoke()), us(r.Quiet.cpuPerRevoke()), r.revokeCost(r.Quiet), us(r.NoneAfter.cpuPerRevoke()))
	fmt.Fprintf(out, "  server CPU per revoke of a user whose other %d pages are open and update themselves: %.0f µs (%.2fx; %.0f µs a page)\n",
		streamsPerUser-1, us(r.With.cpuPerRevoke()), r.revokeCost(r.With),
		(us(r.With.cpuPerRevoke())-us(r.Quiet.cpuPerRevoke()))/float64(streamsPerUser))
}

// printLiveTargets judges issue 17's targets.
func printLiveTargets(out io.Writer, r liveResult) {
	fmt.Fprintln(out, "\nlive updates targets (issue 17):")
	verdict := func(ok bool) string {
		if ok {
			return "MET    "
		}
		return "NOT MET"
	}
	rss, hs := r.perStream(rssOf), r.perStream(heapStackOf)
	fmt.Fprintf(out, "  %s %d streams open on one instance: %d opened, %d failed\n",
		verdict(r.Open.Opened >= r.Asked && r.Open.Failed == 0), r.Asked, r.Open.Opened, r.Open.Failed)
	fmt.Fprintf(out, "  %s resident memory per stream <= 32 KiB: RSS %.1f KiB (Go heap+stacks %.1f KiB)\n",
		verdict(r.Open.Opened > 0 && rss <= maxBytesPerStream), rss/1024, hs/1024)
	_, p99, _, _ := r.endLatency()
	n := len(r.With.Latencies)
	fmt.Fprintf(out, "  %s revoke to end event p99 <= 50 ms over >= 1,000 revokes with the streams open: %.2f ms over %d (%d never came)\n",
		verdict(n >= 1000 && r.With.Missing == 0 && r.With.Errors == 0 && p99 <= maxEndP99), ms(p99), n, r.With.Missing)
	c := r.revokeCost(r.Quiet)
	fmt.Fprintf(out, "  %s server CPU per revoke with %d streams open <= 1.2x none: %.2fx (%.0f vs %.0f µs; a user whose own %d other pages are open and update: %.2fx)\n",
		verdict(c > 0 && c <= maxRevokeCost), r.Open.Opened, c, us(r.Quiet.cpuPerRevoke()), us((r.NoneBefore.cpuPerRevoke()+r.NoneAfter.cpuPerRevoke())/2),
		streamsPerUser-1, r.revokeCost(r.With))
}

// pct is d as a percentage of one CPU over window.
func pct(d, window time.Duration) float64 {
	if window <= 0 {
		return 0
	}
	return 100 * d.Seconds() / window.Seconds()
}
