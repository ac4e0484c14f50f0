package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/playonphone"
)

// The message endpoints do what openum message list, get, export, remove
// and play-on-phone do, through the same msgstore and playonphone calls.

// messageList serves GET /api/v1/messages?mailbox=EMAIL&state=: a
// mailbox's messages, oldest first.
func (l *live) messageList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	mailbox := q.Get("mailbox")
	if mailbox == "" {
		writeError(w, 0, badField("mailbox", errors.New("mailbox is required: the mailbox's email address")))
		return
	}
	var state msgstore.State
	if s := q.Get("state"); s != "" {
		var err error
		if state, err = directory.ParseEnum("state", s, msgstore.States); err != nil {
			writeError(w, 0, badField("state", err))
			return
		}
	}
	list, err := l.cfg.Messages.List(r.Context(), mailbox, state)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if list == nil {
		list = []msgstore.Message{}
	}
	writeJSON(w, http.StatusOK, list)
}

// message returns the message the path's {id} names, or answers why not.
func (l *live) message(w http.ResponseWriter, r *http.Request) (*msgstore.Message, bool) {
	id, err := msgstore.ParseID(r.PathValue("id"))
	if err != nil {
		writeError(w, 0, badField("id", err))
		return nil, false
	}
	m, err := l.cfg.Messages.Get(r.Context(), id)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return nil, false
	}
	return m, true
}

// messageGet serves GET /api/v1/messages/{id}: the message and its
// history, without its audio.
func (l *live) messageGet(w http.ResponseWriter, r *http.Request) {
	if m, ok := l.message(w, r); ok {
		writeJSON(w, http.StatusOK, m)
	}
}

// messageAudio serves GET /api/v1/messages/{id}/audio: the WAV file, the
// bytes openum message export writes.
func (l *live) messageAudio(w http.ResponseWriter, r *http.Request) {
	m, ok := l.message(w, r)
	if !ok {
		return
	}
	wav, err := l.cfg.Messages.Audio(r.Context(), m.ID)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("Content-Length", strconv.Itoa(len(wav)))
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="message-%d.wav"`, m.ID))
	h.Set("Cache-Control", "no-store") // a voice message is private
	_, _ = w.Write(wav)
}

// messageRemove serves DELETE /api/v1/messages/{id}: the message is
// marked deleted, as openum message remove does, audited with the
// token's name; it is purged after its policy's retention.
func (l *live) messageRemove(w http.ResponseWriter, r *http.Request) {
	m, ok := l.message(w, r)
	if !ok {
		return
	}
	m, err := l.cfg.Messages.SetState(r.Context(), actor(r), m.ID, msgstore.Deleted, time.Now())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// playRequest is the body of POST /api/v1/messages/{id}/play-on-phone.
type playRequest struct {
	Phone   string // the number to call, as a subscriber would enter it
	As      string // the subscriber asking, who must own the message; "" for none
	RingFor string // how long the phone may ring, as 30s; "" for the default
}

// playOnPhone serves POST /api/v1/messages/{id}/play-on-phone: the
// running server calls the phone and plays the message (Exchange 2007's Play
// on Phone), within the mailbox's dialing restrictions and budgets. The
// answer comes when the call ends: 200 with the result whatever its
// outcome (Outcome is "answered" when the message was played).
func (l *live) playOnPhone(w http.ResponseWriter, r *http.Request) {
	var body playRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, 0, badField("body", fmt.Errorf("the body must be a JSON object with Phone, As and RingFor: %v", err)))
		return
	}
	req := playonphone.Request{Phone: body.Phone, As: body.As, RingFor: playonphone.DefaultRingFor, By: actor(r).User}
	if req.Phone == "" {
		writeError(w, 0, badField("Phone", errors.New("the number to call (Phone) is required")))
		return
	}
	if body.RingFor != "" {
		d, err := time.ParseDuration(body.RingFor)
		if err != nil || d <= 0 || d > 5*time.Minute {
			writeError(w, 0, badField("RingFor", fmt.Errorf("the ring time (RingFor) must be a duration up to 5m, as 30s, not %q", body.RingFor)))
			return
		}
		req.RingFor = d
	}
	if l.cfg.PlayOnPhone == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("admin: this server places no Play on Phone calls"))
		return
	}
	m, ok := l.message(w, r)
	if !ok {
		return
	}
	req.Message = m.ID
	snap, err := l.srv.cfg.Snapshot(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	res, err := l.cfg.PlayOnPhone.Play(r.Context(), snap, req)
	var notPlayed *playonphone.Error
	if err != nil && !errors.As(err, &notPlayed) {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
