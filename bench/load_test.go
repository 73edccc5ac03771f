package main

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestGenerateOpenLoop checks the two ways of pacing against a server that
// stalls once for 200 ms at the start of the run, with one connection.
// Closed loop (1 s), the stall is one slow request among hundreds and
// vanishes from p99 (coordinated omission). Open loop at 100 req/s (300
// ms), the requests due during the stall wait for it and their latency says
// so; and every request due before the deadline is either sent or counted
// as missed, never more. The bounds hold on a loaded machine: load only
// makes latencies longer and closed-loop requests fewer than the hundreds
// that 800 ms of an idle loopback allows.
func TestGenerateOpenLoop(t *testing.T) {
	tests := []struct {
		name string
		rate float64
		d    time.Duration
		// want
		maxRequests, minRequests int
		minP50, minP99, maxP99   time.Duration
	}{
		{"closed loop", 0, time.Second, 1 << 30, 101, 0, 0, 200 * time.Millisecond},
		{"open loop", 100, 300 * time.Millisecond, 30, 1, 10 * time.Millisecond, 200 * time.Millisecond, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var once sync.Once
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				once.Do(func() { time.Sleep(200 * time.Millisecond) })
				w.Write([]byte("ok"))
			}))
			defer srv.Close()
			p := plan{Method: http.MethodGet, Base: srv.URL, Jobs: []job{{Path: "/"}}, Rate: tt.rate}
			res, err := generate(p, 1, tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if res.Errors != 0 {
				t.Fatalf("%d errors, first: %s", res.Errors, res.FirstErr)
			}
			if res.Requests > tt.maxRequests || res.Requests < tt.minRequests {
				t.Fatalf("%d requests; want %d to %d", res.Requests, tt.minRequests, tt.maxRequests)
			}
			if res.P50 < tt.minP50 {
				t.Fatalf("p50 %v; want at least %v (the stall must show in the requests that waited for it)", res.P50, tt.minP50)
			}
			if tt.rate > 0 && res.Requests+res.Errors+res.Missed != tt.maxRequests {
				t.Fatalf("%d sent, %d errors, %d missed; want the %d due accounted for", res.Requests, res.Errors, res.Missed, tt.maxRequests)
			}
			if res.P99 < tt.minP99 || res.P99 >= tt.maxP99 {
				t.Fatalf("p99 %v; want from %v to under %v", res.P99, tt.minP99, tt.maxP99)
			}
		})
	}
	// A server slower than the offered rate: one connection, 20 ms per
	// request, 200 req/s offered for 200 ms. About 10 of the 40 due are
	// sent; the rest are reported, not silently left out.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
	}))
	defer slow.Close()
	res, err := generate(plan{Method: http.MethodGet, Base: slow.URL, Jobs: []job{{Path: "/"}}, Rate: 200}, 1, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests+res.Errors+res.Missed != 40 || res.Missed < 20 {
		t.Fatalf("slow server: %d sent, %d errors, %d missed; want 40 due, most of them missed", res.Requests, res.Errors, res.Missed)
	}
	if _, err := generate(plan{Method: http.MethodGet, Base: "http://127.0.0.1:1", Jobs: []job{{Path: "/"}}, Rate: -1}, 1, time.Millisecond); err == nil {
		t.Fatal("a negative rate was accepted")
	}
}
