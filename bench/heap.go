package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"time"
)

// heapUse is one store's heap measurement: HeapInuse and HeapAlloc after
// a GC, in a fresh process, before opening the store and after serving
// -d of auth-fragment and list-100 from it (the store still open).
type heapUse struct {
	Label                   string
	Sessions                int // other sessions in the store
	InuseBefore, InuseAfter uint64
	AllocBefore, AllocAfter uint64
}

// heapJob is what a -heap-child process is told on stdin.
type heapJob struct {
	DB, GeoDB        string
	Readers, Listers []login
	Workers          int
	Duration         time.Duration
	Log              string
	MemProfile       string // "" for none
	NoHub            bool   // -hub=false
}

// heapPhase measures the small store and (with -big) the big one, each in
// a fresh child process, so that nothing this process did before (the
// seeding, the other scenarios, buffer pools) is in the comparison.
func heapPhase(cfg config, fx *fixtures, geoPath string) ([]heapUse, error) {
	uses := []heapUse{{Label: "small store", Sessions: 0}}
	paths, suffixes := []string{fx.SmallDB}, []string{".small"}
	if fx.BigDB != "" {
		uses = append(uses, heapUse{Label: "big store", Sessions: fx.BigSessions})
		paths, suffixes = append(paths, fx.BigDB), append(suffixes, ".big")
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	for i, path := range paths {
		job := heapJob{DB: path, GeoDB: geoPath, Readers: fx.Readers, Listers: fx.Listers,
			Workers: cfg.Workers, Duration: cfg.Duration, Log: cfg.Log, NoHub: !cfg.Hub}
		if cfg.MemProfile != "" {
			job.MemProfile = cfg.MemProfile + suffixes[i]
		}
		in, err := json.Marshal(job)
		if err != nil {
			return nil, err
		}
		var out bytes.Buffer
		cmd := exec.Command(exe, "-heap-child")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &out, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("heap measurement of %s: %w", uses[i].Label, err)
		}
		label, sessions := uses[i].Label, uses[i].Sessions
		if err := json.Unmarshal(out.Bytes(), &uses[i]); err != nil {
			return nil, fmt.Errorf("heap measurement of %s: %w", label, err)
		}
		uses[i].Label, uses[i].Sessions = label, sessions
	}
	return uses, nil
}

// heapChild is the -heap-child process: it reads a heapJob from r, opens
// the store, serves the load, and writes a heapUse to w.
func heapChild(r io.Reader, w io.Writer) error {
	var job heapJob
	if err := json.NewDecoder(r).Decode(&job); err != nil {
		return err
	}
	log, err := newLogger(job.Log)
	if err != nil {
		return err
	}
	var u heapUse
	u.InuseBefore, u.AllocBefore = heapAfterGC()
	p, err := startPortal(job.DB, job.GeoDB, log, portalOptions{Flush: time.Hour, NoHub: job.NoHub})
	if err != nil {
		return err
	}
	defer p.close()
	for _, pl := range []plan{
		readPlan(p.base, activeSessionsPath, htmxHeader(), job.Readers),
		readPlan(p.base, activeSessionsPath, nil, job.Listers),
	} {
		if _, err := generate(pl, job.Workers, job.Duration); err != nil {
			return err
		}
	}
	// The client has closed its connections; let the server see it, so
	// that per-connection buffers are back in their pools.
	for deadline := time.Now().Add(5 * time.Second); p.srv.App().Server().GetOpenConnectionsCount() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	u.InuseAfter, u.AllocAfter = heapAfterGC()
	if job.MemProfile != "" {
		if err := writeHeapProfile(job.MemProfile); err != nil {
			return err
		}
	}
	return json.NewEncoder(w).Encode(u)
}

// added is what opening and using the store added to HeapInuse.
func (h heapUse) added() int64 { return int64(h.InuseAfter) - int64(h.InuseBefore) }

func writeHeapProfile(path string) error { return writeProfile("heap", path) }

// writeProfile writes the named runtime/pprof profile to path.
func writeProfile(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// heapAfterGC is HeapInuse and HeapAlloc after a full collection.
func heapAfterGC() (inuse, alloc uint64) {
	runtime.GC()
	runtime.GC() // a second cycle empties the sync.Pools' victim caches
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, m.HeapAlloc
}
