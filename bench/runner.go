package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// roleEnv marks the processes of a -pin run: "server" for the re-executed
// benchmark, whose children are load generators.
const roleEnv = "PORTAL_BENCH_ROLE"

// loadRunner runs plans: in this process, or in a pinned child process.
type loadRunner interface {
	run(p plan, workers int, d time.Duration) (loadResult, error)
	close() error
	describe() string
}

// inProcess generates load from goroutines of this process, sharing its
// CPUs with the servers.
type inProcess struct{}

func (inProcess) run(p plan, workers int, d time.Duration) (loadResult, error) {
	return generate(p, workers, d)
}
func (inProcess) close() error { return nil }
func (inProcess) describe() string {
	return "load generator in the same process as the servers, sharing all CPUs (GOMAXPROCS=" + strconv.Itoa(gomaxprocs()) + ")"
}

// loadRequest and loadReply are the -pin protocol: one JSON object per
// line each way.
type loadRequest struct {
	Plan     plan          `json:"plan"`
	Workers  int           `json:"workers"`
	Duration time.Duration `json:"duration"`
}

type loadReply struct {
	Result loadResult `json:"result"`
	Err    string     `json:"err,omitempty"`
}

// child is a load generator process pinned with taskset.
type child struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *json.Decoder
	cpus string
}

// startChild starts this binary as a load generator on cpus.
func startChild(cpus string) (*child, error) {
	cmd, in, out, err := startSelf(cpus, "-loadgen")
	if err != nil {
		return nil, fmt.Errorf("start load generator: %w", err)
	}
	return &child{cmd: cmd, in: in, out: out, cpus: cpus}, nil
}

// startSelf starts this binary with flag as a child speaking JSON lines on
// its stdin and stdout, pinned to cpus with taskset unless cpus is "".
func startSelf(cpus, flag string) (*exec.Cmd, io.WriteCloser, *json.Decoder, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, nil, err
	}
	cmd := exec.Command(exe, flag)
	if cpus != "" {
		cmd = exec.Command("taskset", "-c", cpus, exe, flag)
		cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(cpuCount(cpus)))
	}
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, err
	}
	return cmd, in, json.NewDecoder(bufio.NewReader(out)), nil
}

func (c *child) run(p plan, workers int, d time.Duration) (loadResult, error) {
	if err := json.NewEncoder(c.in).Encode(loadRequest{Plan: p, Workers: workers, Duration: d}); err != nil {
		return loadResult{}, fmt.Errorf("send plan to load generator: %w", err)
	}
	var r loadReply
	if err := c.out.Decode(&r); err != nil {
		return loadResult{}, fmt.Errorf("read load generator result: %w", err)
	}
	if r.Err != "" {
		return r.Result, errors.New(r.Err)
	}
	return r.Result, nil
}

func (c *child) close() error {
	c.in.Close()
	return c.cmd.Wait()
}

func (c *child) describe() string {
	return fmt.Sprintf("load generator in its own process on CPU %s (GOMAXPROCS=%d), servers on CPU %s (GOMAXPROCS=%d)",
		c.cpus, cpuCount(c.cpus), os.Getenv("PORTAL_BENCH_SERVER_CPUS"), gomaxprocs())
}

// serveLoadgen is the child's side of the protocol: run each plan read
// from r and write the result to w, until r ends.
func serveLoadgen(r io.Reader, w io.Writer) error {
	dec, enc := json.NewDecoder(bufio.NewReader(r)), json.NewEncoder(w)
	for {
		var req loadRequest
		if err := dec.Decode(&req); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		res, err := generate(req.Plan, req.Workers, req.Duration)
		reply := loadReply{Result: res}
		if err != nil {
			reply.Err = err.Error()
		}
		if err := enc.Encode(reply); err != nil {
			return err
		}
	}
}

// reexecPinned runs this benchmark again under taskset on the server CPUs
// (so every thread of the server process inherits the affinity) and
// returns its exit code. That process starts the load generator on the
// client CPUs.
func reexecPinned(cfg config) int {
	if _, err := exec.LookPath("taskset"); err != nil {
		fmt.Fprintln(os.Stderr, "bench: -pin needs taskset (util-linux):", err)
		return 1
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	cmd := exec.Command("taskset", append([]string{"-c", cfg.ServerCPUs, exe}, os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), roleEnv+"=server", "PORTAL_BENCH_SERVER_CPUS="+cfg.ServerCPUs,
		"GOMAXPROCS="+strconv.Itoa(cpuCount(cfg.ServerCPUs)))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return 0
}

// cpuCount counts the CPUs in a taskset list such as "0", "0,2" or "1-3".
func cpuCount(list string) int {
	n := 0
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, errA := strconv.Atoi(lo)
		if !isRange {
			if errA == nil {
				n++
			}
			continue
		}
		b, errB := strconv.Atoi(hi)
		if errA == nil && errB == nil && b >= a {
			n += b - a + 1
		}
	}
	return max(n, 1)
}
