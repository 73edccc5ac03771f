package handlers

import (
	"net/http"
	"strings"
	"testing"
)

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t)
	b := e.browser("")
	if r := b.get("/healthz"); r.StatusCode != http.StatusOK || r.body != "ok\n" {
		t.Fatalf("/healthz: %d %q", r.StatusCode, r.body)
	}
	r := b.get("/readyz")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "db: ok") || !strings.Contains(r.body, "geo: ok (") {
		t.Fatalf("/readyz: %d %q", r.StatusCode, r.body)
	}
	e.st.Close()
	r = b.get("/readyz")
	if r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(r.body, "db: unavailable") {
		t.Fatalf("/readyz with the database closed: %d %q", r.StatusCode, r.body)
	}
	if r := b.get("/healthz"); r.StatusCode != http.StatusOK {
		t.Fatal("/healthz should answer while the process is up")
	}
}
