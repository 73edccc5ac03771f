package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// machineInfo is one line naming the machine and toolchain.
func machineInfo() string {
	return fmt.Sprintf("machine: CPUs %s online (%s), this process may use %d, GOMAXPROCS=%d; %s %s/%s; kernel %s; load average %s",
		readTrim("/sys/devices/system/cpu/online"), cpuModel(), runtime.NumCPU(), gomaxprocs(),
		runtime.Version(), runtime.GOOS, runtime.GOARCH, readTrim("/proc/sys/kernel/osrelease"), loadAverage())
}

func gomaxprocs() int { return runtime.GOMAXPROCS(0) }

// cpuModel is the first "model name" in /proc/cpuinfo, or "unknown CPU".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// loadAverage is the 1, 5 and 15 minute load averages: other work on the
// machine is the first suspect when runs disagree.
func loadAverage() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// readTrim is a small /proc or /sys file's content, or "unknown".
func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
