//go:build !unix

package main

// raiseNoFile reports no descriptor limit where there is no RLIMIT_NOFILE.
func raiseNoFile() uint64 { return 0 }
