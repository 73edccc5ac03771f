package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// plan is what the load generator sends for one scenario run. It is plain
// data so that it can cross a process boundary in -pin mode.
type plan struct {
	Method string            `json:"method"`
	Base   string            `json:"base"`   // "http://127.0.0.1:port"
	Header map[string]string `json:"header"` // sent with every request
	Jobs   []job             `json:"jobs"`
	// Consume hands each job out once, from a queue shared by the workers;
	// the run ends early when the queue is empty. Otherwise worker w sends
	// Jobs[w%len(Jobs)] over and over, like one browser reloading a page.
	Consume bool `json:"consume"`
	// Rate > 0 makes the run open loop: request i is due at start + i/Rate
	// whatever happened to the ones before it, and its latency runs from
	// when it was due, not from when a free connection sent it. A server
	// that stalls then shows the stall in every request that arrived during
	// it, as users would see it, instead of hiding it behind the few that
	// were in flight (coordinated omission). The workers are the
	// connections available; when all are busy, due requests wait.
	Rate float64 `json:"rate,omitempty"`
}

// job is one request's variable part.
type job struct {
	Path   string `json:"path"`
	Cookie string `json:"cookie,omitempty"` // the whole Cookie header
	CSRF   string `json:"csrf,omitempty"`   // sent as X-CSRF-Token
}

// loadResult is what one run of a plan measured on the client side.
type loadResult struct {
	Requests  int           `json:"requests"`
	Errors    int           `json:"errors"`
	FirstErr  string        `json:"first_err,omitempty"`
	Elapsed   time.Duration `json:"elapsed"`
	Exhausted bool          `json:"exhausted"` // a Consume plan ran out of jobs
	// Missed counts open-loop requests that were due before the end of the
	// run but never sent, because every connection was still busy when it
	// ended: the server did not keep up with the offered rate, and the
	// latencies understate what those requests would have seen.
	Missed int           `json:"missed,omitempty"`
	Bytes  int64         `json:"bytes"` // response body bytes, all requests
	P50    time.Duration `json:"p50"`
	P99    time.Duration `json:"p99"`
}

// generate drives p with a fixed number of workers for d. Closed loop (the
// default): each worker sends its next request as soon as the previous
// response has been read, and latency runs from just before the send to
// the end of the body. Open loop (p.Rate > 0): see plan.Rate. Either way
// no request starts after d but those in flight finish, so every request
// the server handled is counted and the elapsed time runs to the last
// response.
func generate(p plan, workers int, d time.Duration) (loadResult, error) {
	if workers < 1 || len(p.Jobs) == 0 {
		return loadResult{}, errors.New("load: need at least one worker and one job")
	}
	tr := &http.Transport{
		MaxIdleConns:        workers,
		MaxIdleConnsPerHost: workers,
		MaxConnsPerHost:     workers,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		Timeout:   time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect is an answer, not something to follow
		},
	}

	if p.Rate < 0 {
		return loadResult{}, errors.New("load: the rate must not be negative")
	}
	var next, slot atomic.Int64 // the queue position of a Consume plan; the next open-loop request
	w := make([]worker, workers)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w[i].run(client, p, i, start, deadline, &next, &slot)
		}()
	}
	wg.Wait()
	res := loadResult{Elapsed: time.Since(start)}
	var lat []time.Duration
	for i := range w {
		res.Requests += len(w[i].lat)
		res.Errors += w[i].errors
		res.Bytes += w[i].bytes
		res.Exhausted = res.Exhausted || w[i].exhausted
		if res.FirstErr == "" && w[i].firstErr != nil {
			res.FirstErr = w[i].firstErr.Error()
		}
		lat = append(lat, w[i].lat...)
	}
	slices.Sort(lat)
	res.P50, res.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	if p.Rate > 0 && !res.Exhausted {
		due := int(math.Ceil(d.Seconds() * p.Rate))
		res.Missed = max(0, due-res.Requests-res.Errors)
	}
	return res, nil
}

// worker is one closed-loop client connection's state.
type worker struct {
	lat       []time.Duration // successful requests only
	errors    int
	firstErr  error
	bytes     int64
	exhausted bool
}

func (w *worker) run(client *http.Client, p plan, id int, start, deadline time.Time, next, slot *atomic.Int64) {
	w.lat = make([]time.Duration, 0, 4096)
	var fixed *http.Request // reused while the job does not change
	for {
		var due time.Time // open loop: when this request should be sent
		if p.Rate > 0 {
			due = start.Add(time.Duration(float64(slot.Add(1)-1) * float64(time.Second) / p.Rate))
			if !due.Before(deadline) || !time.Now().Before(deadline) {
				return
			}
			if wait := time.Until(due); wait > 0 {
				time.Sleep(wait)
			}
		} else if !time.Now().Before(deadline) {
			return
		}
		var req *http.Request
		if p.Consume {
			i := next.Add(1) - 1
			if i >= int64(len(p.Jobs)) {
				w.exhausted = true
				return
			}
			req = newRequest(p, p.Jobs[i])
		} else {
			if fixed == nil {
				fixed = newRequest(p, p.Jobs[id%len(p.Jobs)])
			}
			req = fixed
		}
		t0 := time.Now()
		if p.Rate > 0 {
			t0 = due
		}
		n, err := send(client, req)
		took := time.Since(t0)
		if err != nil {
			w.errors++
			if w.firstErr == nil {
				w.firstErr = err
			}
			continue
		}
		w.bytes += n
		w.lat = append(w.lat, took)
	}
}

func newRequest(p plan, j job) *http.Request {
	req, err := http.NewRequest(p.Method, p.Base+j.Path, nil)
	if err != nil {
		panic(err) // plans are built by this program; a bad one is a bug
	}
	for k, v := range p.Header {
		req.Header.Set(k, v)
	}
	if j.Cookie != "" {
		req.Header.Set("Cookie", j.Cookie)
	}
	if j.CSRF != "" {
		req.Header.Set("X-CSRF-Token", j.CSRF)
	}
	return req
}

// send does one request and reads the whole body. Anything but a 200
// without an HX-Redirect (htmx's "go to sign-in") counts as an error, so a
// benchmark cannot quietly measure redirects or error pages.
func send(client *http.Client, req *http.Request) (int64, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return n, err
	case resp.StatusCode != http.StatusOK:
		return n, fmt.Errorf("%s %s: status %d", req.Method, req.URL.Path, resp.StatusCode)
	case resp.Header.Get("HX-Redirect") != "":
		return n, fmt.Errorf("%s %s: HX-Redirect to %s", req.Method, req.URL.Path, resp.Header.Get("HX-Redirect"))
	}
	return n, nil
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
