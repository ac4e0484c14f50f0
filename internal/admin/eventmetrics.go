package admin

import (
	"log/slog"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openum/openum/internal/events"
)

// eventMetrics turns the events the packages already emit into counters
// (events.Log.Observe), so that sip, media, voicemail and delivery count
// nothing for metrics and import no Prometheus: each event that says a
// call was admitted or refused, a peer refused, a message delivered, is
// one increment here. Label values are mapped to fixed sets, never copied
// from the event: no Call-ID, number, address or free text reaches a label.
type eventMetrics struct {
	events        *prometheus.CounterVec
	setups        *prometheus.CounterVec
	setupTime     prometheus.Histogram
	suites        *prometheus.CounterVec
	refused       *prometheus.CounterVec
	tlsFailures   *prometheus.CounterVec
	bans          prometheus.Counter
	recorded      prometheus.Counter
	lost          prometheus.Counter
	delivered     prometheus.Counter
	retried       prometheus.Counter
	gaveUp        prometheus.Counter
	outcalls      *prometheus.CounterVec
	adminRefusals *prometheus.CounterVec
}

func newEventMetrics(reg prometheus.Registerer) *eventMetrics {
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
		reg.MustRegister(c)
		return c
	}
	vec := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		reg.MustRegister(c)
		return c
	}
	m := &eventMetrics{
		events:      vec("openum_events_total", "Events written to the event log, by event ID (docs/events.md).", "id"),
		setups:      vec("openum_call_setups_total", "INVITEs for new calls by outcome: answered, or the status of the refusal.", "outcome"),
		suites:      vec("openum_srtp_suites_total", "Answered calls by the SRTP suite negotiated (none for RTP).", "suite"),
		refused:     vec("openum_peers_refused_total", "Sources refused as no trusted gateway or server, by reason.", "reason"),
		tlsFailures: vec("openum_tls_handshake_failures_total", "Failed TLS handshakes of peers: certificate (1113) or other (9209).", "reason"),
		bans:        counter("openum_bans_total", "Sources banned after repeated refusals (9206)."),
		recorded:    counter("openum_voice_messages_recorded_total", "Voice messages recorded and kept (9300)."),
		lost:        counter("openum_voice_messages_lost_total", "Voice messages that could not be saved (9304)."),
		delivered:   counter("openum_voice_messages_delivered_total", "Voice messages delivered to Maildir or SMTP (9301, notices not counted)."),
		retried:     counter("openum_delivery_retries_total", "Failed delivery attempts, each retried later (1082, 1423)."),
		gaveUp:      counter("openum_delivery_given_up_total", "Messages whose delivery was escalated as given up (1185); they stay in the spool."),
		outcalls:    vec("openum_outcalls_total", "Calls the server placed, by purpose and result (9502).", "purpose", "result"),
		adminRefusals: vec("openum_admin_auth_failures_total",
			"Admin API requests refused for their credentials, by reason (9600).", "reason"),
		setupTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "openum_call_setup_duration_seconds",
			Help:    "Time from an admitted INVITE to the call's answer (media port, SDP, 200 OK).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	reg.MustRegister(m.setupTime)
	return m
}

// observe is the events.Observer: it must stay quick, it runs in the
// emitter's goroutine.
func (m *eventMetrics) observe(id events.EventID, attrs []slog.Attr) {
	m.events.WithLabelValues(strconv.Itoa(int(id))).Inc()
	// A refusal held back by the log's rate limit is counted in the next
	// line's Suppressed, so counters see it too.
	n := float64(1 + intAttr(attrs, "Suppressed"))
	if status := intAttr(attrs, "status"); status != 0 && stringAttr(attrs, "method") == "INVITE" {
		m.setups.WithLabelValues(setupOutcome(status)).Add(n)
	}
	switch id {
	case events.CallAdmitted:
		m.setups.WithLabelValues("answered").Inc()
		m.suites.WithLabelValues(oneOf(stringAttr(attrs, "srtp"), "none", "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AEAD_AES_128_GCM")).Inc()
		if d, ok := attr(attrs, "setup"); ok && d.Kind() == slog.KindDuration {
			m.setupTime.Observe(d.Duration().Seconds())
		}
	case events.PeerRefused:
		m.refused.WithLabelValues(refusalReason(stringAttr(attrs, "reason"))).Add(n)
	case events.BannedSourceRefused, events.BanExpired:
		if c := intAttr(attrs, "Count"); c > 0 {
			m.refused.WithLabelValues("banned").Add(float64(c))
		}
	case events.GatewayTLSFailed:
		m.tlsFailures.WithLabelValues("certificate").Inc()
	case events.TLSHandshakeFailed:
		m.tlsFailures.WithLabelValues("other").Inc()
	case events.BanAdded:
		m.bans.Inc()
	case events.MessageRecorded:
		m.recorded.Inc()
	case events.RecordingFailed:
		m.lost.Inc()
	case events.MessageDelivered:
		if b, _ := attr(attrs, "notice"); b.Kind() != slog.KindBool || !b.Bool() {
			m.delivered.Inc()
		}
	case events.DeliveryFailed, events.MailTLSFailed:
		if _, ok := attr(attrs, "attempts"); ok { // an attempt, not a spool error
			m.retried.Inc()
		}
	case events.DeliveryFailedFinal:
		m.gaveUp.Inc()
	case events.OutcallPlaced:
		m.outcalls.WithLabelValues(oneOf(stringAttr(attrs, "purpose"), "Outcall", "MessageWaiting"),
			outcallResult(stringAttr(attrs, "result"))).Inc()
	case events.AdminAuthFailed:
		m.adminRefusals.WithLabelValues(oneOf(stringAttr(attrs, "Reason"), "missing", "malformed", "unknown", "rate-limited", "certificate")).Add(n)
	}
}

// setupOutcome is the label of a refusal's status: the ones openum sends,
// else "other".
func setupOutcome(status int) string {
	switch status {
	case 400, 403, 404, 415, 420, 481, 488, 500, 503:
		return strconv.Itoa(status)
	}
	return "other"
}

// refusalReason maps the free text of a 9202 to a fixed set.
func refusalReason(why string) string {
	for _, r := range []struct{ part, label string }{
		{"banned", "banned"},
		{"too many connections", "too_many_connections"},
		{"address is not a configured", "unknown_address"},
		{"no verified client certificate", "no_certificate"},
		{"certificate ", "unknown_certificate"},
		{"no longer in the directory", "not_in_directory"},
		{"is disabled", "gateway_disabled"},
	} {
		if strings.Contains(why, r.part) {
			return r.label
		}
	}
	return "other"
}

// outcallResult maps 9502's Result to a fixed set.
func outcallResult(result string) string {
	for _, r := range []string{"answered", "refused", "no answer", "no gateway", "failed"} {
		if strings.HasPrefix(result, r) {
			return strings.ReplaceAll(r, " ", "_")
		}
	}
	return "other"
}

// oneOf returns v when it is one of the allowed values, else "other".
func oneOf(v string, allowed ...string) string {
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	return "other"
}

func attr(attrs []slog.Attr, key string) (slog.Value, bool) {
	for _, a := range attrs {
		if a.Key == key {
			return a.Value.Resolve(), true
		}
	}
	return slog.Value{}, false
}

func stringAttr(attrs []slog.Attr, key string) string {
	v, ok := attr(attrs, key)
	if !ok || v.Kind() != slog.KindString {
		return ""
	}
	return v.String()
}

func intAttr(attrs []slog.Attr, key string) int {
	v, ok := attr(attrs, key)
	if !ok || v.Kind() != slog.KindInt64 {
		return 0
	}
	return int(v.Int64())
}
