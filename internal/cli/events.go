package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/events"
)

// eventsCommand is "openum events": the event log (SPEC OPS-1), oldest
// first.
func (a *app) eventsCommand() *cobra.Command {
	var id int
	var since string
	var follow bool
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Show the event log (DATA/events.log); event IDs are listed in docs/events.md",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			filter := events.Filter{ID: events.EventID(id)}
			if since != "" {
				t, err := events.ParseSince(since, time.Now())
				if err != nil {
					return fmt.Errorf("--%w", err)
				}
				filter.Since = t
			}
			path := filepath.Join(a.dataDir, "events.log")
			if follow {
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				return a.followEvents(ctx, path, filter)
			}
			recs, err := events.Read(path, filter)
			if err != nil {
				return err
			}
			return printRows(a, recs, []string{"Time", "EventID", "Level", "Message"}, eventRow)
		},
	}
	cmd.Flags().IntVar(&id, "id", 0, "only this event ID")
	cmd.Flags().StringVar(&since, "since", "", "only events of the last DURATION (90m, 24h, 7d) or since a date or time (2026-12-01T08:00)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "print each new event as it is written, until interrupted; with --since, start with those of the current log file since then (with --json, one JSON object a line)")
	return cmd
}

// followEvents prints the events of filter as they are written, until ctx
// is done. Rows are printed as they come, so they are not aligned in
// columns; with --json each is one line.
func (a *app) followEvents(ctx context.Context, path string, filter events.Filter) error {
	return events.Follow(ctx, path, filter, func(r events.Record) error {
		if a.json {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.out, "%s\n", b)
			return err
		}
		_, err := fmt.Fprintln(a.out, strings.Join(eventRow(&r), "  "))
		return err
	})
}

// eventRow is one event as the cells of a table row.
func eventRow(r *events.Record) []string {
	return []string{r.Time.Local().Format("2006-01-02 15:04:05"), strconv.Itoa(int(r.EventID)), r.Level, r.Message + details(r.Attrs)}
}

// tableKeys are the attributes the table shows first, in this order: who
// (source, gateway, address), how (transport), why (reason, error), and what
// (the certificate, the call, the mailbox). Keys are matched regardless of
// case, since packages spell them either way.
var tableKeys = []string{"source", "gateway", "address", "transport", "reason", "error",
	"thumbprint", "callid", "mailbox", "dialplan", "status", "daysleft"}

// hiddenKeys are left to --json: a certificate's full identity is long, and
// its thumbprint names it already.
var hiddenKeys = map[string]bool{"subject": true, "issuer": true, "serialnumber": true,
	"sha256": true, "notafter": true, "kind": true}

// maxValue bounds one attribute's value in the table, so a row stays one line.
const maxValue = 48

// details renders an event's attributes for the table, on one line: the
// tableKeys first, then the rest by name; --json shows them all, whole.
func details(attrs map[string]any) string {
	rank := func(k string) int {
		for i, want := range tableKeys {
			if strings.EqualFold(k, want) {
				return i
			}
		}
		return len(tableKeys)
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		if !hiddenKeys[strings.ToLower(k)] {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank(keys[i]), rank(keys[j])
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+shortValue(tableValue(k, attrs[k])))
	}
	if len(parts) == 0 {
		return ""
	}
	return " [" + strings.Join(parts, " ") + "]"
}

// durationKeys are the attributes the server logs with slog.Duration,
// which the JSON log keeps as nanoseconds: a ban's "for" of 10 minutes
// reads 6e+11 unless the table turns it back into 10m0s.
var durationKeys = map[string]bool{"duration": true, "setup": true, "for": true, "silent": true}

// tableValue is v as the table shows it: a duration as one, and a number
// (JSON's are float64) in digits, never as 2.99e+09.
func tableValue(key string, v any) any {
	f, ok := v.(float64)
	switch {
	case !ok:
		return v
	case durationKeys[strings.ToLower(key)]:
		return time.Duration(f).String()
	default:
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
}

// shortValue prints v on one line, quoted when it has spaces, cut at maxValue.
func shortValue(v any) string {
	s := strings.Join(strings.Fields(fmt.Sprint(v)), " ")
	if r := []rune(s); len(r) > maxValue {
		s = string(r[:maxValue-1]) + "…"
	}
	if strings.ContainsAny(s, " =") {
		s = strconv.Quote(s)
	}
	return s
}
