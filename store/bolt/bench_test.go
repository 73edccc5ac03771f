package bolt

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"portal/store"
)

// benchSessions opens a store with n sessions of one user and returns
// their tokens.
func benchSessions(b *testing.B, opts Options, n int) (*Store, []string) {
	b.Helper()
	s := MustOpen(b, opts)
	u := mustUser(b, s, store.RoleClientAdmin)
	tokens := make([]string, n)
	for i := range tokens {
		_, tokens[i] = mustSession(b, s, u.ID, store.NewSession{})
	}
	return s, tokens
}

func reportWrites(b *testing.B, s *Store, before int64) {
	b.ReportMetric(float64(s.WriteTxCount()-before)/float64(b.N), "writes/op")
}

// BenchmarkValidate is the hot path: a cached session, validated again.
func BenchmarkValidate(b *testing.B) {
	s, tokens := benchSessions(b, Options{Policy: store.Policy{IdleTimeout: time.Hour, MaxLifetime: 24 * time.Hour}}, 1)
	tok := tokens[0]
	if _, err := s.sessionFor(tok); err != nil {
		b.Fatal(err)
	}
	before := s.WriteTxCount()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := s.sessionFor(tok); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportWrites(b, s, before)
}

// BenchmarkValidateParallel validates 64 cached sessions from all procs.
func BenchmarkValidateParallel(b *testing.B) {
	s, tokens := benchSessions(b, Options{Policy: store.Policy{IdleTimeout: time.Hour, MaxLifetime: 24 * time.Hour}}, 64)
	for _, tok := range tokens {
		if _, err := s.sessionFor(tok); err != nil {
			b.Fatal(err)
		}
	}
	before := s.WriteTxCount()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1))
		for pb.Next() {
			if _, err := s.sessionFor(tokens[i%len(tokens)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.StopTimer()
	reportWrites(b, s, before)
}

// BenchmarkValidateCold misses the cache every time: with room for one
// session, alternating between two evicts the other on each call, so each
// sessionFor is a read transaction and a JSON decode.
func BenchmarkValidateCold(b *testing.B) {
	s, tokens := benchSessions(b, Options{CacheSize: 1, Policy: store.Policy{IdleTimeout: time.Hour, MaxLifetime: 24 * time.Hour}}, 2)
	before := s.WriteTxCount()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.sessionFor(tokens[i&1]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportWrites(b, s, before)
}

// BenchmarkFlushActivity writes the last-active times of n sessions, all
// touched since the previous flush, in one transaction.
func BenchmarkFlushActivity(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			c := newClock()
			s, tokens := benchSessions(b, Options{Now: c.Now}, n) // no expiry: the fake clock runs far
			before := s.WriteTxCount()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				c.Advance(time.Second)
				for _, tok := range tokens {
					if _, err := s.sessionFor(tok); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				written, err := s.FlushLastActive()
				if err != nil {
					b.Fatal(err)
				}
				if written != n {
					b.Fatalf("flushed %d, want %d", written, n)
				}
			}
			b.StopTimer()
			reportWrites(b, s, before)
		})
	}
}
