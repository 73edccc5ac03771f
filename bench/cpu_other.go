//go:build !unix

package main

import "time"

// cpuTime is not measured on this platform; cpu_us/req reads 0.
func cpuTime() time.Duration { return 0 }
