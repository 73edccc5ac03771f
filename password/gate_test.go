package password

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestGateRefusesBeyondSlotsAndWaiters(t *testing.T) {
	g := NewGate(2, 1, time.Hour)
	r1, err1 := g.Enter()
	r2, err2 := g.Enter()
	if err1 != nil || err2 != nil {
		t.Fatalf("the two slots: %v %v", err1, err2)
	}
	// The third caller waits for a slot; a fourth finds the waiting room
	// full and is refused at once.
	got := make(chan error, 1)
	go func() {
		r, err := g.Enter()
		if err == nil {
			r()
		}
		got <- err
	}()
	for len(g.waiters) == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, err := g.Enter(); !errors.Is(err, ErrBusy) {
		t.Fatalf("a caller beyond the slots and the waiting room: %v, want ErrBusy", err)
	}
	r1()
	if err := <-got; err != nil {
		t.Fatalf("the waiting caller after a release: %v", err)
	}
	r2()
	if len(g.slots) != 0 || len(g.waiters) != 0 {
		t.Fatalf("slots %d waiters %d left taken", len(g.slots), len(g.waiters))
	}
}

func TestGateWaitEnds(t *testing.T) {
	g := NewGate(1, 4, time.Millisecond)
	release, err := g.Enter()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := g.Enter(); !errors.Is(err, ErrBusy) {
		t.Fatalf("a wait longer than maxWait: %v, want ErrBusy", err)
	}
	if len(g.waiters) != 0 {
		t.Fatal("a caller that gave up still holds its place in the waiting room")
	}
}

// TestGateBoundsConcurrency releases many callers at once and checks that
// no more than the gate's slots ever hold one together.
func TestGateBoundsConcurrency(t *testing.T) {
	const running, callers = 3, 64
	g := NewGate(running, callers, time.Minute)
	var inside, most, admitted atomic.Int32
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			release, err := g.Enter()
			if err != nil {
				return
			}
			admitted.Add(1)
			n := inside.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			Verify(dummy, "x") // real work while holding the slot
			inside.Add(-1)
			release()
		}()
	}
	close(start)
	wg.Wait()
	if most.Load() > running {
		t.Fatalf("%d hashes ran at once, want at most %d", most.Load(), running)
	}
	if admitted.Load() != callers {
		t.Fatalf("%d of %d callers admitted; with room for all to wait, all should be", admitted.Load(), callers)
	}
}

// TestGateReservedShare: reserved callers get their own slots and waiting
// room; ordinary callers never take them.
func TestGateReservedShare(t *testing.T) {
	g := NewGate(1, 0, time.Hour).WithReserved(1, 0)
	r1, err := g.Enter()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Enter(); !errors.Is(err, ErrBusy) {
		t.Fatalf("an ordinary caller with the ordinary slot taken: %v, want ErrBusy", err)
	}
	if !g.Full(Caller{}) || g.Full(Caller{Reserved: true}) {
		t.Fatal("Full disagrees with what Enter does")
	}
	r2, err := g.EnterAs(Caller{Reserved: true})
	if err != nil {
		t.Fatalf("a reserved caller with only the ordinary slot taken: %v", err)
	}
	if _, err := g.EnterAs(Caller{Reserved: true}); !errors.Is(err, ErrBusy) {
		t.Fatalf("a reserved caller with every slot taken and no room to wait: %v", err)
	}
	r1()
	r2()
	if len(g.slots) != 0 || len(g.reserved) != 0 {
		t.Fatal("slots left taken")
	}
}

// TestGateOneWaiterPerSource: of two callers from the same place, only
// one waits for a slot; the other is refused at once, however much room
// is left. Callers from elsewhere still wait.
func TestGateOneWaiterPerSource(t *testing.T) {
	g := NewGate(1, 8, time.Hour)
	release, err := g.Enter()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 2)
	wait := func(from string) {
		r, err := g.EnterAs(Caller{From: from})
		if err == nil {
			r()
		}
		got <- err
	}
	go wait("net-a")
	for len(g.waiters) == 0 {
		time.Sleep(time.Millisecond)
	}
	if !g.Full(Caller{From: "net-a"}) {
		t.Fatal("Full says a second caller from net-a could wait")
	}
	if _, err := g.EnterAs(Caller{From: "net-a"}); !errors.Is(err, ErrBusy) {
		t.Fatalf("a second caller from net-a: %v, want ErrBusy", err)
	}
	go wait("net-b")
	for len(g.waiters) < 2 {
		time.Sleep(time.Millisecond)
	}
	release()
	for range 2 {
		if err := <-got; err != nil {
			t.Fatalf("a waiting caller: %v", err)
		}
	}
}
