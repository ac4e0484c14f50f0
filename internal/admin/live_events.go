package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/openum/openum/internal/events"
)

// events serves GET /api/v1/events?id=&since=&follow=1: the event log's
// records that match, oldest first, one JSON object a line (as openum
// events --json). With follow=1 the answer goes on: each record is sent
// as it is written, until the client goes away or the server stops: from
// since, within the current log file, else from the request on.
func (l *live) events(w http.ResponseWriter, r *http.Request) {
	filter, follow, err := eventFilter(r, time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if !follow {
		recs, err := events.Read(l.cfg.EventLog, filter)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		for _, rec := range recs {
			if enc.Encode(rec) != nil {
				return
			}
		}
		return
	}
	if filter.Since.IsZero() {
		// From this request on: what is written once the client has the
		// answer's headers is sent, though Follow opens the file after.
		filter.Since = time.Now()
	}
	ctx, stop := context.WithCancel(r.Context())
	defer stop()
	context.AfterFunc(l.srv.streams, stop)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush() // the client knows at once that the stream is open
	enc := json.NewEncoder(w)
	_ = events.Follow(ctx, l.cfg.EventLog, filter, func(rec events.Record) error {
		if err := enc.Encode(rec); err != nil {
			return err
		}
		return rc.Flush()
	})
}

// eventFilter reads the query of an event request.
func eventFilter(r *http.Request, now time.Time) (f events.Filter, follow bool, err error) {
	q := r.URL.Query()
	if s := q.Get("id"); s != "" {
		id, err := strconv.Atoi(s)
		if err != nil || id <= 0 {
			return f, false, badField("id", fmt.Errorf("id must be an event ID, a positive number as 9600, not %q", s))
		}
		f.ID = events.EventID(id)
	}
	if s := q.Get("since"); s != "" {
		if f.Since, err = events.ParseSince(s, now); err != nil {
			return f, false, badField("since", err)
		}
	}
	switch s := q.Get("follow"); s {
	case "", "0", "false":
	case "1", "true":
		follow = true
	default:
		return f, false, badField("follow", fmt.Errorf("follow must be 1 or 0, not %q", s))
	}
	return f, follow, nil
}
