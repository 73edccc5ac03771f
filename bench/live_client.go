package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// The live measurement's clients: one raw TCP connection and one goroutine
// per stream, reading the stream line by line into a small buffer (not
// net/http, whose per-connection state would be most of the client's
// memory), plus the revokes, sent with net/http and timed against the
// revoked stream's "end" event in the same process and clock.

// sseBufSize is each stream's read buffer; longer lines (rendered rows)
// are read through it and only their start is looked at.
const sseBufSize = 512

// endWait is how long a revoke waits for its stream's end event.
const endWait = 5 * time.Second

// sseLine is what a stream line means to the measurement.
type sseLine uint8

const (
	lineOther     sseLine = iota
	lineID                // "id: ...": the stream's refresh is done
	lineHeartbeat         // ": ...": a comment, which the portal sends as its heartbeat
	lineEnd               // "event: end": the session has ended
	lineBlank             // the end of an event
)

// classify says what one line of a stream is; line is its start, without
// the newline.
func classify(line []byte) sseLine {
	switch {
	case len(line) == 0:
		return lineBlank
	case line[0] == ':':
		return lineHeartbeat
	case bytes.HasPrefix(line, []byte("id:")):
		return lineID
	case bytes.Equal(bytes.TrimSpace(line), []byte("event: end")):
		return lineEnd
	}
	return lineOther
}

// readLine reads one line of any length and returns its start (at most
// the reader's buffer), without "\r\n".
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	start := line
	for errors.Is(err, bufio.ErrBufferFull) {
		start = bytes.Clone(start[:min(len(start), 64)]) // enough to classify
		_, err = r.ReadSlice('\n')
	}
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(start, "\r\n"), nil
}

// sseConn is one open stream.
type sseConn struct {
	conn  net.Conn
	r     *bufio.Reader
	ready chan struct{} // closed at its first id line: registered and refreshed
	ended chan struct{} // closed at its "event: end"
	endAt atomic.Int64  // when "event: end" was read, in ns since the client's epoch
}

// streamClients are the open streams and what they have read.
type streamClients struct {
	epoch      time.Time
	streams    []*sseConn
	heartbeats atomic.Int64
	wg         sync.WaitGroup
}

func newStreamClients() *streamClients { return &streamClients{epoch: time.Now()} }

func (c *streamClients) now() time.Duration { return time.Since(c.epoch) }

// openResult is how opening a set of streams went.
type openResult struct {
	Opened, Failed int
	FirstErr       string
	Elapsed        time.Duration
}

// open opens one stream per Cookie header on base's /events, dialing at
// most dialers at a time (a burst of 10,000 SYNs overflows the listen
// queue, and each retransmission costs a second), and waits until each
// has read its first id line or failed.
func (c *streamClients) open(base string, cookies []string, dialers int) openResult {
	t0 := time.Now()
	u, err := url.Parse(base)
	if err != nil {
		return openResult{Failed: len(cookies), FirstErr: err.Error()}
	}
	first := len(c.streams)
	c.streams = append(c.streams, make([]*sseConn, len(cookies))...)
	errs := make([]error, len(cookies))
	sem := make(chan struct{}, max(1, dialers))
	var wg sync.WaitGroup
	for i, cookie := range cookies {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := dialStream(u.Host, cookie)
			<-sem
			if err != nil {
				errs[i] = err
				return
			}
			c.streams[first+i] = s
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				c.read(s)
			}()
			select {
			case <-s.ready:
			case <-s.ended:
				errs[i] = errors.New("the stream ended at once")
			case <-time.After(30 * time.Second):
				errs[i] = errors.New("no id line within 30 s")
			}
		}()
	}
	wg.Wait()
	res := openResult{Elapsed: time.Since(t0)}
	for _, err := range errs {
		if err == nil {
			res.Opened++
			continue
		}
		res.Failed++
		if res.FirstErr == "" {
			res.FirstErr = err.Error()
		}
	}
	return res
}

// dialStream sends GET /events as the portal's page script does (same
// origin, the session cookie) and reads the response head.
func dialStream(host, cookie string) (*sseConn, error) {
	conn, err := net.DialTimeout("tcp", host, 10*time.Second)
	if err != nil {
		return nil, err
	}
	req := "GET /events HTTP/1.1\r\nHost: " + host + "\r\nAccept: text/event-stream\r\nCookie: " + cookie +
		"\r\nSec-Fetch-Site: same-origin\r\nUser-Agent: " + userAgents[1] + "\r\n\r\n"
	s := &sseConn{conn: conn, r: bufio.NewReaderSize(conn, sseBufSize), ready: make(chan struct{}), ended: make(chan struct{})}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, err
	}
	if err := s.readHead(); err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return s, nil
}

// readHead reads the status line and headers: a stream is a 200 with no
// Content-Length; anything else (a session that has ended, a full hub)
// is a short answer, not a stream.
func (s *sseConn) readHead() error {
	line, err := readLine(s.r)
	if err != nil {
		return fmt.Errorf("read the stream's status: %w", err)
	}
	status := bytes.Clone(line) // the next read reuses the buffer
	short := false
	for {
		line, err := readLine(s.r)
		if err != nil {
			return fmt.Errorf("read the stream's headers: %w", err)
		}
		if len(line) == 0 {
			break
		}
		short = short || bytes.HasPrefix(bytes.ToLower(line), []byte("content-length:"))
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200")) || short {
		return fmt.Errorf("not a stream: %q (with a length: %v)", status, short)
	}
	return nil
}

// read consumes the stream until it closes, noting its first id line,
// its heartbeats and its end event.
func (c *streamClients) read(s *sseConn) {
	defer s.conn.Close()
	ready, ended := false, false
	for {
		line, err := readLine(s.r)
		if err != nil {
			return
		}
		switch classify(line) {
		case lineID:
			if !ready {
				ready = true
				close(s.ready)
			}
		case lineHeartbeat:
			c.heartbeats.Add(1)
		case lineEnd:
			if !ended {
				ended = true
				s.endAt.Store(int64(c.now()))
				close(s.ended)
			}
		}
	}
}

// stream is the i-th open stream, or nil.
func (c *streamClients) stream(i int) *sseConn {
	if i < 0 || i >= len(c.streams) {
		return nil
	}
	return c.streams[i]
}

// closeAll closes every stream and waits for their readers.
func (c *streamClients) closeAll() {
	for _, s := range c.streams {
		if s != nil {
			s.conn.Close()
		}
	}
	c.wg.Wait()
	c.streams = nil
}

// liveRevoke is one revoke: an htmx sign-out by the acting session, and
// the stream (an index into the open streams) of the session it ends, or
// -1 for a session with none.
type liveRevoke struct {
	Path   string `json:"path"`
	Cookie string `json:"cookie"`
	CSRF   string `json:"csrf"`
	Stream int    `json:"stream"`
}

// revokeResult is how a run of revokes went. Latencies run from reading a
// revoke's whole response to reading its stream's "event: end" line; a
// negative one means the event came first.
type revokeResult struct {
	Revokes, Errors int
	FirstErr        string
	Elapsed         time.Duration
	Latencies       []time.Duration
	Missing         int // revoked streams with no end event within endWait
}

// revoke sends each revoke at its due time, rate per second (open loop:
// each in its own goroutine, whatever the earlier ones are doing).
func (c *streamClients) revoke(base string, jobs []liveRevoke, rate float64) revokeResult {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	p := plan{Method: http.MethodPost, Base: base, Header: htmxPOST()}
	var mu sync.Mutex
	var res revokeResult
	var wg sync.WaitGroup
	t0 := time.Now()
	for i, j := range jobs {
		if rate > 0 {
			time.Sleep(time.Until(t0.Add(time.Duration(float64(i) * float64(time.Second) / rate))))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := send(client, newRequest(p, job{Path: j.Path, Cookie: j.Cookie, CSRF: j.CSRF}))
			done := c.now()
			var lat time.Duration
			missing := false
			if s := c.stream(j.Stream); err == nil && s == nil {
				missing = j.Stream >= 0 // its stream never opened
			} else if err == nil {
				select {
				case <-s.ended:
					lat = time.Duration(s.endAt.Load()) - done
				case <-time.After(endWait):
					missing = true
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.Revokes++
			switch {
			case err != nil:
				res.Errors++
				if res.FirstErr == "" {
					res.FirstErr = err.Error()
				}
			case missing:
				res.Missing++
			case j.Stream >= 0:
				res.Latencies = append(res.Latencies, lat)
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(t0)
	return res
}

// cookieOf is the Cookie header of a login.
func cookieOf(l login) string { return sessionCookie + "=" + l.Token }
