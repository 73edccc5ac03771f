package main

import (
	"bufio"
	"io"
	"strings"
	"testing"
	"time"
)

func TestClassifyStreamLines(t *testing.T) {
	long := "data: " + strings.Repeat("<tr>row</tr>", 200) // longer than the read buffer
	in := "retry: 2731\n\nid: 1764236400000\n\n: \nid: 1764236425000\n\nevent: sessions\n" + long + "\n\n" +
		"event: end\r\ndata: /login?reason=revoked\n\n"
	want := []sseLine{lineOther, lineBlank, lineID, lineBlank, lineHeartbeat, lineID, lineBlank,
		lineOther, lineOther, lineBlank, lineEnd, lineOther, lineBlank}
	r := bufio.NewReaderSize(strings.NewReader(in), sseBufSize)
	for i, w := range want {
		line, err := readLine(r)
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if got := classify(line); got != w {
			t.Errorf("line %d %.40q: %d, want %d", i, line, got, w)
		}
	}
	if _, err := readLine(r); err != io.EOF {
		t.Fatalf("after the last line: %v, want EOF", err)
	}
}

func TestRevokeJobsGoUserByUser(t *testing.T) {
	users := []liveUser{
		{Actor: login{Token: "a0", CSRF: "c0"}, Others: []login{{SessionID: "s00"}, {SessionID: "s01"}}},
		{Actor: login{Token: "a1", CSRF: "c1"}, Others: []login{{SessionID: "s10"}}},
	}
	jobs := revokeJobs(users, 0, 3, func(u, i int) int { return u*streamsPerUser + i })
	want := []liveRevoke{
		{Path: "/settings/active-sessions/s00/sign-out", Cookie: sessionCookie + "=a0", CSRF: "c0", Stream: 0},
		{Path: "/settings/active-sessions/s10/sign-out", Cookie: sessionCookie + "=a1", CSRF: "c1", Stream: streamsPerUser},
		{Path: "/settings/active-sessions/s01/sign-out", Cookie: sessionCookie + "=a0", CSRF: "c0", Stream: 1},
	}
	if len(jobs) != len(want) {
		t.Fatalf("%d jobs, want %d: %+v", len(jobs), len(want), jobs)
	}
	for i := range want {
		if jobs[i] != want[i] {
			t.Errorf("job %d: %+v, want %+v", i, jobs[i], want[i])
		}
	}
}

// TestLiveStreamsAndRevokes runs the live measurement's clients against
// the real portal: every stream opens, every revoke of a streamed session
// is answered and its stream's end event read, and a revoke of a session
// without a stream times nothing.
func TestLiveStreamsAndRevokes(t *testing.T) {
	dir := t.TempDir()
	loc := testLocator(t)
	fx, err := seedLive(dir, t.TempDir(), loc, 15, io.Discard) // two users: 10 streams and 5
	if err != nil {
		t.Fatal(err)
	}
	if len(fx.Streamed) != 2 || len(fx.Streamed[1].Others) != 5 || len(fx.Quiet[1].Others) != streamsPerUser {
		t.Fatalf("seeded %d streamed users (%d others for the second), quiet second %d others",
			len(fx.Streamed), len(fx.Streamed[1].Others), len(fx.Quiet[1].Others))
	}
	p := testPortal(t, fx.DB)
	for _, users := range [][]liveUser{fx.Streamed, fx.Quiet} {
		if err := fetchActorsCSRF(p.base, users); err != nil {
			t.Fatal(err)
		}
	}
	var cookies []string
	for _, u := range fx.Streamed {
		for _, l := range u.Others {
			cookies = append(cookies, cookieOf(l))
		}
	}
	c := newStreamClients()
	defer c.closeAll()
	if o := c.open(p.base, cookies, 4); o.Opened != 15 || o.Failed != 0 || p.srv.Hub().Len() != 15 {
		t.Fatalf("opened %d, failed %d (%s), hub holds %d", o.Opened, o.Failed, o.FirstErr, p.srv.Hub().Len())
	}
	jobs := revokeJobs(fx.Streamed, 0, 3, func(u, i int) int { return u*streamsPerUser + i })
	r := c.revoke(p.base, jobs, 0)
	if r.Revokes != 3 || r.Errors != 0 || r.Missing != 0 || len(r.Latencies) != 3 {
		t.Fatalf("revokes with streams: %+v", r)
	}
	for _, j := range jobs {
		select {
		case <-c.streams[j.Stream].ended:
		default:
			t.Fatalf("stream %d did not read its end event", j.Stream)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); p.srv.Hub().Len() != 12; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("hub holds %d streams after 3 of 15 ended", p.srv.Hub().Len())
		}
	}
	quiet := c.revoke(p.base, revokeJobs(fx.Quiet, 0, 2, func(int, int) int { return -1 }), 0)
	if quiet.Revokes != 2 || quiet.Errors != 0 || len(quiet.Latencies) != 0 {
		t.Fatalf("revokes without streams: %+v", quiet)
	}
	// A stream of a revoked session is refused: not a stream.
	if _, err := dialStream(strings.TrimPrefix(p.base, "http://"), cookies[0]); err == nil || !strings.Contains(err.Error(), "not a stream") {
		t.Fatalf("stream of a revoked session: %v", err)
	}
}
