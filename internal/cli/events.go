package cli

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/events"
)

// eventsCommand is "openum events": the event log (SPEC OPS-1), oldest
// first.
func (a *app) eventsCommand() *cobra.Command {
	var id int
	var since string
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Show the event log (DATA/events.log); event IDs are listed in docs/events.md",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			filter := events.Filter{ID: events.EventID(id)}
			if since != "" {
				d, err := parseSince(since)
				if err != nil {
					return err
				}
				filter.Since = time.Now().Add(-d)
			}
			recs, err := events.Read(filepath.Join(a.dataDir, "events.log"), filter)
			if err != nil {
				return err
			}
			if a.json {
				if recs == nil {
					recs = []events.Record{}
				}
				return a.printJSON(recs)
			}
			w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "Time\tEventID\tLevel\tMessage")
			for _, r := range recs {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", r.Time.Local().Format("2006-01-02 15:04:05"), r.EventID, r.Level, r.Message+details(r.Attrs))
			}
			return w.Flush()
		},
	}
	cmd.Flags().IntVar(&id, "id", 0, "only this event ID")
	cmd.Flags().StringVar(&since, "since", "", "only events of the last DURATION (90m, 24h, 7d)")
	return cmd
}

// parseSince reads a Go duration, or a number of days written Nd.
func parseSince(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days >= 0 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--since: %q is not a duration (90m, 24h, 7d)", s)
	}
	return d, nil
}

// details renders the identifying attributes of an event for the table;
// --json shows them all.
func details(attrs map[string]any) string {
	var parts []string
	for _, k := range []string{"Thumbprint", "DaysLeft"} {
		if v, ok := attrs[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return ""
	}
	return " [" + strings.Join(parts, " ") + "]"
}
