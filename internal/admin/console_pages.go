package admin

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/sip"
)

// snapshot is the directory as it is now: read afresh when the console
// has the directory, so that a change made a moment ago shows.
func (c *console) snapshot(ctx context.Context) (*directory.Snapshot, error) {
	if c.cfg.Directory != nil {
		return c.cfg.Directory.Snapshot(ctx)
	}
	return c.srv.cfg.Snapshot(ctx)
}

// listener is one address the server answers on.
type listener struct{ Name, Address string }

// overviewData is the overview page: what an operator looks at first.
type overviewData struct {
	Server      *directory.Server // nil when the record is missing
	Draining    bool
	Listeners   []listener
	DialPlans   []directory.DialPlan
	Certificate *certs.Certificate
	Calls       []sip.CallCount
	CallsTotal  int
	Queue       int
	QueueOldest time.Time
	QueueError  string
	Warnings    []events.Record
}

func (c *console) overview(ctx context.Context) (string, any, error) {
	snap, err := c.snapshot(ctx)
	if err != nil {
		return "", nil, err
	}
	d := overviewData{DialPlans: snap.DialPlans}
	d.Server, _ = snap.Server(c.cfg.ServerName)
	if s := c.cfg.SIP; s != nil {
		d.Draining = s.Draining()
		for name, addr := range s.Addrs() {
			d.Listeners = append(d.Listeners, listener{"SIP " + name, addr.String()})
		}
		d.Calls = s.CallsInProgress()
		for _, n := range d.Calls {
			d.CallsTotal += n.Calls
		}
	}
	sort.Slice(d.Listeners, func(i, j int) bool { return d.Listeners[i].Name < d.Listeners[j].Name })
	d.Listeners = append(d.Listeners, listener{"Admin API and console", c.srv.URL()})
	if m := c.srv.cfg.Certs; m != nil {
		d.Certificate = m.Current()
	}
	if sp := c.cfg.Spool; sp != nil {
		if d.Queue, d.QueueOldest, err = sp.Depth(); err != nil {
			d.QueueError = err.Error()
		}
	}
	recent, _ := c.readEvents(eventQuery{Since: time.Now().Add(-24 * time.Hour), MinLevel: "Warning"}, 10)
	d.Warnings = recent
	return "Overview", d, nil
}

func (c *console) dialPlans(ctx context.Context) (string, any, error) {
	snap, err := c.snapshot(ctx)
	if err != nil {
		return "", nil, err
	}
	return "Dial plans", snap.DialPlans, nil
}

// gatewayRow is a gateway and what the OPTIONS pings found.
type gatewayRow struct {
	directory.IPGateway
	NoAnswer []string // transports over which the last OPTIONS got no answer
}

func (c *console) gateways(ctx context.Context) (string, any, error) {
	snap, err := c.snapshot(ctx)
	if err != nil {
		return "", nil, err
	}
	rows := make([]gatewayRow, len(snap.IPGateways))
	for i, g := range snap.IPGateways {
		rows[i].IPGateway = g
		if c.cfg.SIP != nil {
			rows[i].NoAnswer = c.cfg.SIP.GatewayNotAnswering(g.Name)
		}
	}
	return "Gateways", struct {
		Gateways []gatewayRow
		Statuses []directory.Status
	}{rows, directory.Statuses}, nil
}

func (c *console) huntGroups(ctx context.Context) (string, any, error) {
	snap, err := c.snapshot(ctx)
	if err != nil {
		return "", nil, err
	}
	return "Hunt groups", snap.HuntGroups, nil
}

// maxMailboxRows bounds the mailboxes page: a directory may hold 100,000.
const maxMailboxRows = 500

// mailboxes lists those that need an operator first (locked out, failed
// logons, PIN expired), then the others, up to maxMailboxRows.
func (c *console) mailboxes(ctx context.Context) (string, any, error) {
	snap, err := c.snapshot(ctx)
	if err != nil {
		return "", nil, err
	}
	rows := snap.Mailboxes.Slice()
	attention := func(m directory.Mailbox) int {
		switch {
		case m.LockedOut:
			return 0
		case m.LogonFailures > 0:
			return 1
		case m.PINExpired:
			return 2
		}
		return 3
	}
	slices.SortStableFunc(rows, func(a, b directory.Mailbox) int { return attention(a) - attention(b) })
	more := max(0, len(rows)-maxMailboxRows)
	return "Mailboxes", struct {
		Mailboxes []directory.Mailbox
		More      int
	}{rows[:len(rows)-more], more}, nil
}

func (c *console) certificates(context.Context) (string, any, error) {
	var sel *certs.Selection
	if m := c.srv.cfg.Certs; m != nil {
		sel = m.Selection()
	}
	return "Certificates", sel, nil
}

// eventQuery is the event page's filter.
type eventQuery struct {
	ID       int
	Since    time.Time
	MinLevel string // Information, Warning or Error: this level and above
	// The form's fields as typed, shown back.
	IDText, SinceText string
}

// levels ranks the event log's levels.
var levels = []string{"Information", "Warning", "Error"}

// maxEventRows is how many events a page shows: the newest.
const maxEventRows = 200

// events serves the event log, newest first, filtered by ?id=, ?since= (a
// duration back from now, as 2h, or a date or time) and ?level=.
func (c *console) events(w http.ResponseWriter, r *http.Request) {
	q, err := parseEventQuery(r)
	var recs []events.Record
	if err == nil {
		recs, err = c.readEvents(q, maxEventRows)
	}
	p := page{Title: "Event log", Data: struct {
		Query   eventQuery
		Levels  []string
		Records []events.Record
		Max     int
	}{q, levels, recs, maxEventRows}}
	status := http.StatusOK
	if err != nil {
		p.Error, status = err.Error(), http.StatusBadRequest
	}
	c.render(w, r, status, "events", p)
}

func parseEventQuery(r *http.Request) (eventQuery, error) {
	v := r.URL.Query()
	q := eventQuery{IDText: v.Get("id"), SinceText: v.Get("since"), MinLevel: v.Get("level")}
	if q.IDText != "" {
		id, err := strconv.Atoi(q.IDText)
		if err != nil || id <= 0 {
			return q, fmt.Errorf("event ID must be a number, as 9600, not %q", q.IDText)
		}
		q.ID = id
	}
	if q.SinceText != "" {
		t, err := events.ParseSince(q.SinceText, time.Now())
		if err != nil {
			return q, err
		}
		q.Since = t
	}
	if q.MinLevel != "" && !slices.Contains(levels, q.MinLevel) {
		return q, fmt.Errorf("level must be one of %s, not %q", strings.Join(levels, ", "), q.MinLevel)
	}
	return q, nil
}

// readEvents returns up to max records matching q, newest first.
func (c *console) readEvents(q eventQuery, max int) ([]events.Record, error) {
	if c.cfg.EventLog == "" {
		return nil, nil
	}
	recs, err := events.Read(c.cfg.EventLog, events.Filter{ID: events.EventID(q.ID), Since: q.Since})
	if err != nil {
		return nil, err
	}
	var out []events.Record
	floor := slices.Index(levels, q.MinLevel)
	for i := len(recs) - 1; i >= 0 && len(out) < max; i-- {
		if slices.Index(levels, recs[i].Level) >= floor {
			out = append(out, recs[i])
		}
	}
	return out, nil
}

// when formats a time for a page, in UTC, or "—" for none.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// daysLeft is how many whole days remain until t.
func daysLeft(t time.Time) int { return int(time.Until(t).Hours() / 24) }

// attrList writes an event's attributes as key=value, sorted.
func attrList(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, m[k])
	}
	return strings.Join(parts, " ")
}
