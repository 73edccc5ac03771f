package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"
)

// measurement is one timed run of a scenario: the client's view plus what
// the server process did meanwhile.
type measurement struct {
	loadResult
	WriteTx int64         // bbolt write transactions of the scenario's store
	Flushes int64         // of which last-active flushes (the timer's, not the requests')
	CPU     time.Duration // CPU time of this process (the servers; plus the client unless -pin)
}

// runSuite warms the read scenarios up, then times every scenario
// cfg.Runs times, in list order on odd runs and reverse order on even
// ones, so that drift (thermal, page cache, GC state) hits all alike.
func runSuite(cfg config, r loadRunner, scenarios []scenario, out io.Writer) (map[string][]measurement, error) {
	for _, sc := range scenarios {
		if !sc.warm || cfg.Warmup <= 0 {
			continue
		}
		if _, err := r.run(sc.plan(0), cfg.Workers, cfg.Warmup); err != nil {
			return nil, fmt.Errorf("warm up %s: %w", sc.name, err)
		}
	}
	results := make(map[string][]measurement)
	for run := range cfg.Runs {
		order := slices.Clone(scenarios)
		if run%2 == 1 {
			slices.Reverse(order)
		}
		for _, sc := range order {
			m, err := measure(cfg, r, &sc, run)
			if err != nil {
				return nil, fmt.Errorf("%s run %d: %w", sc.name, run+1, err)
			}
			results[sc.name] = append(results[sc.name], m)
			fmt.Fprintf(out, "  run %d %-30s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %6d requests  %d errors%s\n",
				run+1, sc.name, m.rate(), ms(m.P50), ms(m.P99), m.Requests, m.Errors, m.note())
		}
	}
	return results, nil
}

// measure does one timed run of sc.
func measure(cfg config, r loadRunner, sc *scenario, run int) (measurement, error) {
	p := sc.plan(run)
	p.Rate = cfg.Rate
	runtime.GC() // start every run from the same heap state
	w0, f0, c0 := sc.writeTxs(), sc.flushes(), cpuTime()
	res, err := r.run(p, cfg.Workers, cfg.Duration)
	if err != nil {
		return measurement{}, err
	}
	return measurement{loadResult: res, WriteTx: sc.writeTxs() - w0, Flushes: sc.flushes() - f0, CPU: cpuTime() - c0}, nil
}

func (m measurement) rate() float64 {
	if m.Elapsed <= 0 {
		return 0
	}
	return float64(m.Requests) / m.Elapsed.Seconds()
}

// note flags what makes a run less than it seems.
func (m measurement) note() string {
	var notes []string
	if m.Exhausted {
		notes = append(notes, fmt.Sprintf("prepared sessions ran out after %s", m.Elapsed.Round(10*time.Millisecond)))
	}
	if m.Missed > 0 {
		notes = append(notes, fmt.Sprintf("%d due requests never sent: the server fell behind the offered rate, so latency is understated", m.Missed))
	}
	if m.FirstErr != "" {
		notes = append(notes, "first error: "+m.FirstErr)
	}
	if len(notes) == 0 {
		return ""
	}
	return "  (" + strings.Join(notes, "; ") + ")"
}

// profile takes a CPU profile of this process during one extra run of the
// chosen scenario; with -pin that is the servers alone.
func profile(cfg config, r loadRunner, scenarios []scenario, out io.Writer) error {
	i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == cfg.ProfileOf })
	if i < 0 {
		return fmt.Errorf("-profile %s: no such scenario", cfg.ProfileOf)
	}
	if !scenarios[i].warm {
		return fmt.Errorf("-profile %s: only read scenarios can be profiled (write scenarios use up their sessions)", cfg.ProfileOf)
	}
	f, err := os.Create(cfg.CPUProfile)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	m, err := measure(cfg, r, &scenarios[i], 0)
	pprof.StopCPUProfile()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "profiled %s: %.0f req/s while profiling; CPU profile in %s\n", cfg.ProfileOf, m.rate(), cfg.CPUProfile)
	return nil
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
