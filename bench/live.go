package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"portal/handlers"
)

// The live-updates measurement (issue 17): one portal with its hub, as
// many streams as fit (10,000 by default, 10 per user), the stream
// clients in a child process. It measures the server's memory per
// stream, its CPU while idle with heartbeats, the time from a revoke's
// response to the revoked stream's "end" event, and the server's CPU per
// revoke with the streams open against none (before opening them and
// after closing them).

// liveConfig is the live measurement's flags.
type liveConfig struct {
	Only      bool // -live: nothing else
	Streams   int
	Revokes   int
	Rate      float64
	Heartbeat time.Duration
}

// liveWanted says whether this run measures live updates: by default, with
// -live, or when -only names "live".
func (c config) liveWanted() bool {
	if c.Live.Only {
		return true
	}
	if c.Live.Streams <= 0 {
		return false
	}
	return c.Only == "" || onlyNames(c.Only, "live")
}

func onlyNames(only, name string) bool {
	for _, s := range strings.Split(only, ",") {
		if strings.TrimSpace(s) == name {
			return true
		}
	}
	return false
}

// memUse is the process's memory after two collections, with freed pages
// returned to the system so that RSS is comparable.
type memUse struct {
	HeapInuse, StackInuse, RSS uint64
	Goroutines                 int
}

func memNow() memUse {
	runtime.GC()
	debug.FreeOSMemory() // a second collection, and freed spans back to the OS
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memUse{HeapInuse: m.HeapInuse, StackInuse: m.StackInuse, RSS: vmRSS(), Goroutines: runtime.NumGoroutine()}
}

// vmRSS is this process's resident set size (VmRSS in /proc/self/status),
// 0 where there is none.
func vmRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// revokePhase is one timed run of revokes and the server's CPU during it.
type revokePhase struct {
	revokeResult
	CPU time.Duration
}

// cpuPerRevoke is the server's CPU per revoke.
func (p revokePhase) cpuPerRevoke() time.Duration {
	if p.Revokes == 0 {
		return 0
	}
	return p.CPU / time.Duration(p.Revokes)
}

// liveResult is everything the live measurement found.
type liveResult struct {
	Asked, Streams, Users int
	Limits                string // the descriptor limits, when they cut the streams
	Heartbeat             time.Duration
	Rate                  float64
	Open                  openResult
	Before, After         memUse
	IdleWindow            time.Duration // without streams
	IdleCPU               time.Duration
	HeartbeatWindow       time.Duration // with the streams: one heartbeat interval
	HeartbeatCPU          time.Duration
	Heartbeats            int64 // comments the clients read in that window
	NoneBefore, With      revokePhase
	// Quiet is revokes of users with no page open while every stream is
	// open: what open streams cost a revoke. With adds the revoked user's
	// own open pages bringing themselves up to date.
	Quiet     revokePhase
	NoneAfter revokePhase
	Pinned    string
}

// fitStreams is how many streams both processes can hold: each stream is
// a descriptor on each side, and each process needs some for itself.
func fitStreams(want int, serverLimit, clientLimit uint64) int {
	const spare = 256 // databases, listeners, the revokes' connections
	n := want
	for _, limit := range []uint64{serverLimit, clientLimit} {
		if limit > 0 {
			n = min(n, int(limit)-spare)
		}
	}
	return max(n, 0)
}

// runLive is the live measurement; its results are printed as it goes
// and judged at the end.
func runLive(cfg config, seedDir, workDir, geoDB string, loc handlers.Locator, log *slog.Logger, out io.Writer) (res liveResult, err error) {
	lc := cfg.Live
	res = liveResult{Asked: lc.Streams, Heartbeat: lc.Heartbeat, Rate: lc.Rate}
	cpus := ""
	if cfg.Pin {
		cpus, res.Pinned = cfg.ClientCPUs, fmt.Sprintf("stream clients pinned to CPU %s, server to CPU %s", cfg.ClientCPUs, cfg.ServerCPUs)
	}
	child, err := startLiveChild(cpus)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, child.close()) }()
	serverLimit := raiseNoFile()
	res.Streams = fitStreams(lc.Streams, serverLimit, child.limit)
	if res.Streams < lc.Streams {
		res.Limits = fmt.Sprintf("RLIMIT_NOFILE is %d here and %d in the clients' process: %d streams fit, not %d", serverLimit, child.limit, res.Streams, lc.Streams)
		fmt.Fprintln(out, res.Limits)
	}
	if res.Streams < 1 {
		return res, errors.New("live: no stream fits in the descriptor limits")
	}
	fx, err := seedLive(seedDir, workDir, loc, res.Streams, out)
	if err != nil {
		return res, fmt.Errorf("seed: %w", err)
	}
	res.Users = len(fx.Streamed)
	rounds := (lc.Revokes + res.Users - 1) / res.Users
	if rounds < 1 || 3*rounds > streamsPerUser {
		return res, fmt.Errorf("-live-revokes %d: want 1 to %d with %d streams", lc.Revokes, res.Users*streamsPerUser/3, res.Streams)
	}
	p, err := startPortal(fx.DB, geoDB, log, portalOptions{Flush: cfg.Flush, Heartbeat: lc.Heartbeat})
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, p.close()) }()
	for _, users := range [][]liveUser{fx.Streamed, fx.Quiet} {
		if err := fetchActorsCSRF(p.base, users); err != nil {
			return res, err
		}
	}
	var cookies []string
	for _, u := range fx.Streamed {
		for _, l := range u.Others {
			cookies = append(cookies, cookieOf(l))
		}
	}
	revokes := func(label string, jobs []liveRevoke) (revokePhase, error) {
		c0 := cpuTime()
		r, err := child.do(liveCommand{Op: "revoke", Base: p.base, Revokes: jobs, Rate: lc.Rate})
		ph := revokePhase{revokeResult: r.Revoke, CPU: cpuTime() - c0}
		if err == nil {
			fmt.Fprintf(out, "  %-34s %5d revokes in %s, %d errors, server CPU %.0f µs per revoke%s\n", label, ph.Revokes,
				ph.Elapsed.Round(time.Millisecond), ph.Errors, us(ph.cpuPerRevoke()), firstErr(ph.FirstErr))
		}
		return ph, err
	}

	// Revokes with no stream open; the server idle without streams.
	noStream := func(int, int) int { return -1 }
	if res.NoneBefore, err = revokes("revokes, no stream open", revokeJobs(fx.Quiet, 0, lc.Revokes, noStream)); err != nil {
		return res, err
	}
	res.Before = memNow()
	res.IdleWindow = 2 * time.Second
	c0 := cpuTime()
	time.Sleep(res.IdleWindow)
	res.IdleCPU = cpuTime() - c0

	// Open the streams; memory after.
	r, err := child.do(liveCommand{Op: "open", Base: p.base, Cookies: cookies})
	if err != nil {
		return res, err
	}
	res.Open = r.Open
	fmt.Fprintf(out, "  opened %d streams in %s (%d failed%s); hub holds %d\n", res.Open.Opened,
		res.Open.Elapsed.Round(time.Millisecond), res.Open.Failed, firstErr(res.Open.FirstErr), p.srv.Hub().Len())
	res.After = memNow()
	if cfg.MemProfile != "" {
		if err := writeProfiles(cfg.MemProfile + ".live"); err != nil {
			return res, err
		}
	}

	// One heartbeat interval idle: every stream sends exactly one.
	h0, err := child.do(liveCommand{Op: "heartbeats"})
	if err != nil {
		return res, err
	}
	res.HeartbeatWindow = lc.Heartbeat
	c0 = cpuTime()
	time.Sleep(res.HeartbeatWindow)
	res.HeartbeatCPU = cpuTime() - c0
	h1, err := child.do(liveCommand{Op: "heartbeats"})
	if err != nil {
		return res, err
	}
	res.Heartbeats = h1.Heartbeats - h0.Heartbeats
	fmt.Fprintf(out, "  idle for %s: server CPU %s, %d heartbeats read\n", res.HeartbeatWindow, res.HeartbeatCPU.Round(time.Millisecond), res.Heartbeats)

	// Revokes of users with no page open, while the streams are open.
	if res.Quiet, err = revokes(fmt.Sprintf("revokes, %d streams of others open", res.Open.Opened), revokeJobs(fx.Quiet, rounds, lc.Revokes, noStream)); err != nil {
		return res, err
	}

	// Revokes of streamed sessions, timed to their end events.
	streamOf := func(u, i int) int { return u*streamsPerUser + i }
	if res.With, err = revokes(fmt.Sprintf("revokes, %d streams open", res.Open.Opened), revokeJobs(fx.Streamed, 0, lc.Revokes, streamOf)); err != nil {
		return res, err
	}

	// Close the streams, and revoke with none open again.
	if _, err := child.do(liveCommand{Op: "close"}); err != nil {
		return res, err
	}
	for deadline := time.Now().Add(10 * time.Second); p.srv.Hub().Len() > 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if res.NoneAfter, err = revokes("revokes, no stream open (after)", revokeJobs(fx.Quiet, 2*rounds, lc.Revokes, noStream)); err != nil {
		return res, err
	}
	return res, nil
}

// revokeJobs is count revokes of the users' other sessions from round
// first on: in each round, one session of each user in turn, so revokes
// in flight act for different users. stream gives the index of user u's
// i-th other session's stream, or -1.
func revokeJobs(users []liveUser, first, count int, stream func(u, i int) int) []liveRevoke {
	var jobs []liveRevoke
	for round := first; len(jobs) < count && round < streamsPerUser; round++ {
		for u, usr := range users {
			if len(jobs) == count {
				break
			}
			if round >= len(usr.Others) {
				continue
			}
			jobs = append(jobs, liveRevoke{Path: "/settings/active-sessions/" + usr.Others[round].SessionID + "/sign-out",
				Cookie: cookieOf(usr.Actor), CSRF: usr.Actor.CSRF, Stream: stream(u, round)})
		}
	}
	return jobs
}

// fetchActorsCSRF fills in each acting session's CSRF token.
func fetchActorsCSRF(base string, users []liveUser) error {
	actors := make([]login, len(users))
	for i, u := range users {
		actors[i] = u.Actor
	}
	if err := fetchCSRF(base, actors); err != nil {
		return err
	}
	for i := range users {
		users[i].Actor = actors[i]
	}
	return nil
}

// writeProfiles writes the heap profile and the goroutines' stacks.
func writeProfiles(prefix string) error {
	if err := writeProfile("heap", prefix+".heap"); err != nil {
		return err
	}
	return writeProfile("goroutine", prefix+".goroutines")
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func firstErr(s string) string {
	if s == "" {
		return ""
	}
	return ", first: " + s
}
