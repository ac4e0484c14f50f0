package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/ops"
	"github.com/openum/openum/internal/sip"
)

// callsAnswer is GET /api/v1/calls: the counts the console and /metrics
// show, and each call.
type callsAnswer struct {
	Total      int
	ByDialPlan []sip.CallCount
	Calls      []sip.CallInfo
}

// calls serves GET /api/v1/calls: the answered calls in progress.
func (l *live) calls(w http.ResponseWriter, r *http.Request) {
	if l.cfg.SIP == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("admin: this admin API serves no SIP server"))
		return
	}
	a := callsAnswer{ByDialPlan: l.cfg.SIP.CallsInProgress(), Calls: l.cfg.SIP.CallsList()}
	for _, c := range a.ByDialPlan {
		a.Total += c.Calls
	}
	writeJSON(w, http.StatusOK, a)
}

// DefaultDrainWait is how long POST /api/v1/server/drain waits for the
// calls in progress to end, unless ?wait= says otherwise.
const DefaultDrainWait = 5 * time.Minute

// maxDrainWait bounds ?wait=: a client waiting longer polls GET /calls.
const maxDrainWait = time.Hour

// drainAnswer is what a drain reports when its wait ends.
type drainAnswer struct {
	Server    string
	Status    directory.Status
	Drained   bool // no call is left
	CallsLeft int
	Waited    string
}

// drain serves POST /api/v1/server/drain?wait=: this server's record is
// marked NoNewCalls, as the console's Drain does, then the answer waits
// until the calls in progress have ended or wait has passed, and says how
// many are left.
func (l *live) drain(w http.ResponseWriter, r *http.Request) {
	wait := DefaultDrainWait
	if s := r.URL.Query().Get("wait"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d > maxDrainWait {
			writeError(w, http.StatusBadRequest, badField("wait", fmt.Errorf("wait must be a duration from 0s to %s, as 60s or 5m, not %q", maxDrainWait, s)))
			return
		}
		wait = d
	}
	if l.cfg.SIP == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("admin: this admin API serves no SIP server"))
		return
	}
	if err := markNoNewCalls(r.Context(), l.cfg.Directory, l.cfg.ServerName, actor(r), "admin API"); err != nil {
		l.srv.writeOpsError(w, r, err)
		return
	}
	begun := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	context.AfterFunc(l.srv.streams, cancel)
	left := waitIdle(ctx, l.cfg.SIP)
	writeJSON(w, http.StatusOK, drainAnswer{Server: l.cfg.ServerName, Status: directory.NoNewCalls,
		Drained: left == 0, CallsLeft: left, Waited: time.Since(begun).Round(time.Millisecond).String()})
}

// markNoNewCalls sets server's directory record NoNewCalls, as server set
// --status NoNewCalls does (internal/ops), audited as actor from via (the
// web console or the admin API): the one drain of both. New calls are
// then refused or redirected (SPEC OPS-4); calls in progress finish.
func markNoNewCalls(ctx context.Context, dir directory.Directory, server string, actor directory.Actor, via string) error {
	if dir == nil {
		return errors.New("admin: no directory to change")
	}
	req := ops.Request{Verb: ops.Set, Kind: directory.KindServer, Name: server,
		Params: ops.Params{"status": {string(directory.NoNewCalls)}}}
	actor.Command = via + ": " + req.Command()
	_, err := ops.Do(ctx, ops.Env{Directory: dir, Actor: actor}, req)
	return err
}

// waitIdle waits until srv has no call in progress or ctx is done, and
// returns how many calls are left.
func waitIdle(ctx context.Context, srv *sip.Server) int {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		n := srv.ActiveCalls()
		if n == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return srv.ActiveCalls()
		case <-t.C:
		}
	}
}
