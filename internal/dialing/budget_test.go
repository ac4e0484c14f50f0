package dialing

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
)

func refusal(t *testing.T, err error, want Reason) {
	t.Helper()
	var r *Refusal
	if !errors.As(err, &r) || r.Reason != want {
		t.Fatalf("got %v, want a refusal for %s", err, want)
	}
}

func TestBudgetCalls(t *testing.T) {
	b := NewBudget()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	mbx, srv := Limit{Calls: 2, Minutes: 60}, Limit{Calls: 3, Minutes: 600}
	for i := range 2 {
		if _, err := b.Start(now, "alice@example.test", mbx, srv); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	_, err := b.Start(now, "ALICE@example.test", mbx, srv)
	refusal(t, err, MailboxCallsExceeded)
	if _, err := b.Start(now, "bob@example.test", mbx, srv); err != nil {
		t.Fatalf("bob's first call: %v", err)
	}
	// The server has placed 3: nobody else may call, not even a call no
	// mailbox asked for.
	_, err = b.Start(now, "carol@example.test", mbx, srv)
	refusal(t, err, ServerCallsExceeded)
	_, err = b.Start(now, "", mbx, srv)
	refusal(t, err, ServerCallsExceeded)
	// A refused call is not counted: the next day starts from nothing.
	if _, err := b.Start(now.Add(14*time.Hour), "alice@example.test", mbx, srv); err != nil {
		t.Fatalf("next day: %v", err)
	}
}

func TestBudgetMinutes(t *testing.T) {
	b := NewBudget()
	now := time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)
	mbx, srv := Limit{Calls: 10, Minutes: 5}, Limit{Calls: 100, Minutes: 7}
	left, err := b.Start(now, "alice@example.test", mbx, srv)
	if err != nil || left != 5*time.Minute {
		t.Fatalf("Start = %v, %v; want 5m: the smaller of the minutes left", left, err)
	}
	b.End(now, "alice@example.test", 3*time.Minute+time.Second) // billed as 4
	left, err = b.Start(now, "alice@example.test", mbx, srv)
	if err != nil || left != time.Minute {
		t.Fatalf("Start = %v, %v; want 1m left", left, err)
	}
	b.End(now, "alice@example.test", 10*time.Second) // billed as 1
	_, err = b.Start(now, "alice@example.test", mbx, srv)
	refusal(t, err, MailboxMinutesExceeded)
	left, err = b.Start(now, "bob@example.test", mbx, srv)
	if err != nil || left != 2*time.Minute {
		t.Fatalf("bob: Start = %v, %v; want the server's 2m left", left, err)
	}
	b.End(now, "", 2*time.Minute)
	_, err = b.Start(now, "bob@example.test", mbx, srv)
	refusal(t, err, ServerMinutesExceeded)
	if _, err := b.Start(now.Add(time.Hour), "alice@example.test", mbx, srv); err != nil {
		t.Fatalf("after midnight UTC: %v", err)
	}
}

func TestBudgetZeroAndDefaults(t *testing.T) {
	b := NewBudget()
	now := time.Now()
	_, err := b.Start(now, "alice@example.test", Limit{Calls: 0, Minutes: 60}, Limit{Calls: 10, Minutes: 60})
	refusal(t, err, MailboxCallsExceeded)
	_, err = b.Start(now, "alice@example.test", Limit{Calls: 10, Minutes: 0}, Limit{Calls: 10, Minutes: 60})
	refusal(t, err, MailboxMinutesExceeded)

	p := directory.NewMailboxPolicy("P", "DP")
	sv := directory.NewServer("um.example.test")
	if got := PolicyLimit(&p); got != (Limit{10, 60}) {
		t.Fatalf("default policy budget %+v", got)
	}
	if got := ServerLimit(&sv); got != (Limit{200, 1000}) {
		t.Fatalf("default server budget %+v", got)
	}
	if p.AllowCallBack {
		t.Fatal("call back must be off by default")
	}
}

func TestBudgetConcurrent(t *testing.T) {
	b := NewBudget()
	now := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	placed := 0
	for range 50 {
		wg.Go(func() {
			if _, err := b.Start(now, "alice@example.test", Limit{Calls: 20, Minutes: 60}, Limit{Calls: 100, Minutes: 600}); err == nil {
				mu.Lock()
				placed++
				mu.Unlock()
			}
			b.End(now, "alice@example.test", time.Second)
		})
	}
	wg.Wait()
	if placed != 20 {
		t.Fatalf("%d calls placed at once against a budget of 20", placed)
	}
}
