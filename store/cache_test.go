package store

import (
	"errors"
	"testing"
	"time"
)

// These exercise the cache's generation counter directly: the window it
// guards (a read that started before a revoke committed, finishing after
// the revoke dropped the cache entry) is too narrow to hit reliably from
// the outside.
func TestSessionCacheLoad(t *testing.T) {
	live := Session{ID: "live", LastActive: t0}
	revoked := Session{ID: "live", LastActive: t0, EndedAt: t0.Add(time.Minute), EndReason: ReasonRevoked}
	h := HashToken("token")
	other := HashToken("other")

	tests := []struct {
		name string
		// fetch is called with the attempt number (0-based) and may
		// forget entries, as a revoke committing meanwhile would.
		fetch       func(c *sessionCache, attempt int) (Session, error)
		wantErr     error
		wantRevoked bool
		wantCached  bool
		wantFetches int
	}{
		{
			name:        "plain miss is cached",
			fetch:       func(c *sessionCache, _ int) (Session, error) { return live, nil },
			wantCached:  true,
			wantFetches: 1,
		},
		{
			name:        "revoked is not cached",
			fetch:       func(c *sessionCache, _ int) (Session, error) { return revoked, nil },
			wantRevoked: true,
			wantFetches: 1,
		},
		{
			name:        "error is not cached",
			fetch:       func(c *sessionCache, _ int) (Session, error) { return Session{}, ErrNotFound },
			wantErr:     ErrNotFound,
			wantFetches: 1,
		},
		{
			name: "revoke during the read: read again and see it",
			fetch: func(c *sessionCache, attempt int) (Session, error) {
				if attempt == 0 {
					c.forget(h) // the revoke commits after our read began
					return live, nil
				}
				return revoked, nil
			},
			wantRevoked: true,
			wantFetches: 2,
		},
		{
			name: "unrelated revoke during the read: read again, then cache",
			fetch: func(c *sessionCache, attempt int) (Session, error) {
				if attempt == 0 {
					c.forget(other)
				}
				return live, nil
			},
			wantCached:  true,
			wantFetches: 2,
		},
		{
			name: "revokes during every read: give up caching",
			fetch: func(c *sessionCache, attempt int) (Session, error) {
				c.forget(other)
				return live, nil
			},
			wantCached:  false,
			wantFetches: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := trustedCache(10)
			fetches := 0
			e, err := c.load(h, tracked(func() (Session, error) {
				s, err := tt.fetch(c, fetches)
				fetches++
				return s, err
			}))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("load err = %v, want %v", err, tt.wantErr)
			}
			if fetches != tt.wantFetches {
				t.Errorf("fetched %d times, want %d", fetches, tt.wantFetches)
			}
			if err == nil {
				if got := !e.Snapshot().EndedAt.IsZero(); got != tt.wantRevoked {
					t.Errorf("loaded revoked=%v, want %v", got, tt.wantRevoked)
				}
			}
			if cached := c.peek(h) != nil; cached != tt.wantCached {
				t.Errorf("cached=%v, want %v", cached, tt.wantCached)
			}
			// A hit never fetches.
			if tt.wantCached {
				again, err := c.load(h, tracked(func() (Session, error) {
					t.Error("fetched on a hit")
					return Session{}, nil
				}))
				if err != nil || again != e {
					t.Errorf("second load = %p, %v; want the cached %p", again, err, e)
				}
			}
		})
	}
}

func TestSessionCacheLimit(t *testing.T) {
	c := trustedCache(3)
	for i := range 10 {
		h := HashToken(string(rune('a' + i)))
		if _, err := c.load(h, tracked(func() (Session, error) { return Session{ID: "x", LastActive: t0}, nil })); err != nil {
			t.Fatal(err)
		}
		if n := len(c.entries); n > 3 {
			t.Fatalf("cache holds %d entries, limit 3", n)
		}
		if c.peek(h) == nil {
			t.Fatalf("the entry just loaded was not kept")
		}
	}
}

// An untrusted cache (a listener that is down) reads through and keeps
// nothing, sessions or users' lists, until it is trusted again.
func TestSessionCacheUntrusted(t *testing.T) {
	c := newSessionCache(10)
	h := HashToken("token")
	live := tracked(func() (Session, error) { return Session{ID: "x", LastActive: t0}, nil })
	fetchList := func() ([]Session, error) { return []Session{{ID: "x"}}, nil }
	if _, err := c.load(h, live); err != nil {
		t.Fatal(err)
	}
	if _, err := userValue(c, c.lists, "u", fetchList); err != nil {
		t.Fatal(err)
	}
	if c.peek(h) != nil || len(c.lists) != 0 {
		t.Fatal("an untrusted cache kept what it read")
	}
	c.setTrusted(true)
	c.load(h, live)
	userValue(c, c.lists, "u", fetchList)
	if c.peek(h) == nil || len(c.lists) != 1 {
		t.Fatal("a trusted cache did not keep what it read")
	}
	c.setTrusted(false)
	if c.peek(h) != nil || len(c.lists) != 0 {
		t.Fatal("the cache kept its entries when it stopped being trusted")
	}
}

func trustedCache(limit int) *sessionCache {
	c := newSessionCache(limit)
	c.setTrusted(true)
	return c
}

func tracked(fetch func() (Session, error)) func() (*Tracked, error) {
	return func() (*Tracked, error) {
		s, err := fetch()
		if err != nil {
			return nil, err
		}
		return NewTracked(s), nil
	}
}
