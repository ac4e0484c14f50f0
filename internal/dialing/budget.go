package dialing

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/openum/openum/internal/directory"
)

// Limit is a daily outcall budget. Zero calls or zero minutes places no
// call at all.
type Limit struct {
	Calls   int
	Minutes int
}

// PolicyLimit is the budget of each mailbox of policy p.
func PolicyLimit(p *directory.MailboxPolicy) Limit {
	return Limit{Calls: p.MaxOutcallsPerDay, Minutes: p.MaxOutcallMinutesPerDay}
}

// ServerLimit is the budget of server sv, all mailboxes together.
func ServerLimit(sv *directory.Server) Limit {
	return Limit{Calls: sv.MaxOutcallsPerDay, Minutes: sv.MaxOutcallMinutesPerDay}
}

// Refusal is a call refused by a budget.
type Refusal struct {
	Reason Reason
	Detail string
}

func (r *Refusal) Error() string { return "dialing: " + r.Detail }

// Usage is what was spent on one day.
type Usage struct {
	Calls int
	Spent time.Duration // each call rounded up to whole minutes
}

// Budget counts the calls the server places and their minutes, per mailbox
// and for the whole server, per UTC day (SPEC DIAL-4). The counts are kept
// in memory by each server: a restart forgets the day's calls, and servers
// sharing a directory each have the server budget of their own record. The
// zero value is not usable: use NewBudget. It is safe for concurrent use.
type Budget struct {
	mu        sync.Mutex
	day       string
	server    Usage
	mailboxes map[string]*Usage
}

// NewBudget returns a budget with nothing spent.
func NewBudget() *Budget { return &Budget{mailboxes: map[string]*Usage{}} }

// Start counts one call for mailbox ("" for a call no mailbox asked for,
// which spends only the server's budget) if both mailbox's and the
// server's budgets have a call and a minute left. It returns how long the
// call may last, the smaller of the minutes left, or a *Refusal. The caller
// reports the call's length with End.
func (b *Budget) Start(now time.Time, mailbox string, perMailbox, perServer Limit) (time.Duration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rollover(now)
	var m *Usage
	if mailbox != "" {
		m = b.mailbox(mailbox)
	}
	left, err := allow(b.server, m, mailbox, perMailbox, perServer)
	if err != nil {
		return 0, err
	}
	if m != nil {
		m.Calls++
	}
	b.server.Calls++
	return left, nil
}

// allow decides whether a call may start given what the server and the
// mailbox (nil for a call no mailbox asked for) have spent, and returns
// how long it may last: the smaller of the minutes left.
func allow(server Usage, m *Usage, mailbox string, perMailbox, perServer Limit) (time.Duration, error) {
	left, err := check(server, perServer, ServerCallsExceeded, ServerMinutesExceeded, "the server")
	if err != nil || m == nil {
		return left, err
	}
	mleft, err := check(*m, perMailbox, MailboxCallsExceeded, MailboxMinutesExceeded, "mailbox "+mailbox)
	if err != nil {
		return 0, err
	}
	return min(left, mleft), nil
}

// End adds a call's length, rounded up to whole minutes as carriers bill
// it, to mailbox's and the server's minutes of the day now falls in.
func (b *Budget) End(now time.Time, mailbox string, length time.Duration) {
	spent := Billed(length)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rollover(now)
	b.server.Spent += spent
	if mailbox != "" {
		b.mailbox(mailbox).Spent += spent
	}
}

// Billed is a call's length rounded up to whole minutes, as carriers bill
// it and as budgets count it.
func Billed(length time.Duration) time.Duration {
	return (max(length, 0) + time.Minute - 1).Truncate(time.Minute)
}

// check returns the minutes u has left under l, or why it has none.
func check(u Usage, l Limit, calls, minutes Reason, whose string) (time.Duration, error) {
	if u.Calls >= l.Calls {
		return 0, &Refusal{calls, fmt.Sprintf("%s has placed %d of its %d outcalls today (MaxOutcallsPerDay)", whose, u.Calls, l.Calls)}
	}
	left := time.Duration(l.Minutes)*time.Minute - u.Spent
	if left <= 0 {
		return 0, &Refusal{minutes, fmt.Sprintf("%s has spent %d of its %d outcall minutes today (MaxOutcallMinutesPerDay)", whose, int(u.Spent/time.Minute), l.Minutes)}
	}
	return left, nil
}

// rollover starts a new day's counts when now is past the current day.
func (b *Budget) rollover(now time.Time) {
	if day := Day(now); day != b.day {
		b.day, b.server, b.mailboxes = day, Usage{}, map[string]*Usage{}
	}
}

func (b *Budget) mailbox(addr string) *Usage {
	key := strings.ToLower(addr)
	u, ok := b.mailboxes[key]
	if !ok {
		u = &Usage{}
		b.mailboxes[key] = u
	}
	return u
}
