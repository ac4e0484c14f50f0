package admin

import (
	"regexp"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/logon"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/sip"
)

// Sources are what the metrics read. A nil field's metrics are left out.
type Sources struct {
	Version string          // the release, for openum_build_info
	Events  *events.Log     // counted as they are emitted (eventMetrics)
	SIP     *sip.Server     // calls in progress, handshakes, RTP counters
	Spool   *delivery.Spool // the delivery queue
	Certs   *certs.Manager  // the certificate in use
	Logon   *logon.Stats    // subscriber logons
}

// liveHeap adds go_gc_heap_live_bytes to the Go runtime's usual metrics:
// the heap the last collection found reachable, what the server holds.
// The resident set and go_memstats_heap_inuse_bytes also count what
// awaits the next collection and what the runtime has yet to return to
// the kernel, so only this one tells a server that grows from one that
// breathes (and it is what the collector policy, internal/gcpolicy,
// follows).
var liveHeap = collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)}

// NewRegistry returns a registry of openum's own (not Prometheus's global
// one) with the metrics of src, the Go runtime's and the process's.
// Gauges are read at each scrape from their source, so they are never
// stale; counters only grow.
func NewRegistry(src Sources) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(liveHeap)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "openum_build_info",
		Help:        "Always 1: the openum release and the Go version it was built with.",
		ConstLabels: prometheus.Labels{"version": src.Version, "goversion": runtime.Version()},
	}, func() float64 { return 1 }))
	if src.Events != nil {
		src.Events.Observe(newEventMetrics(reg).observe)
	}
	reg.MustRegister(&gauges{src: src})
	counterFunc := func(name, help string, v func() uint64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v()) }))
	}
	counterFunc("openum_rtp_received_packets_total",
		"RTP packets accepted by the calls in progress and ended, counted as they come (openum_rtp_packets_total counts a call's when it ends).", media.Totals.Received.Load)
	counterFunc("openum_rtp_played_frames_total",
		"RTP packets of prompts and greetings sent to callers, counted as they go.", media.Totals.Played.Load)
	if s := src.SIP; s != nil {
		st := s.Stats()
		counterFunc("openum_tls_handshakes_total", "TLS handshakes peers completed with the SIP listener.", st.TLSHandshakes.Load)
		rtp := prometheus.NewDesc("openum_rtp_packets_total",
			"RTP packets of the calls that ended: accepted, dropped as from a foreign address, dropped as bad (not RTP, failed SRTP authentication, replayed).",
			[]string{"result"}, nil)
		reg.MustRegister(collectFunc(rtp, func(ch chan<- prometheus.Metric) {
			ch <- prometheus.MustNewConstMetric(rtp, prometheus.CounterValue, float64(st.RTPAccepted.Load()), "accepted")
			ch <- prometheus.MustNewConstMetric(rtp, prometheus.CounterValue, float64(st.RTPForeign.Load()), "foreign")
			ch <- prometheus.MustNewConstMetric(rtp, prometheus.CounterValue, float64(st.RTPBad.Load()), "bad")
		}))
		// Apart from openum_rtp_packets_total: these packets never came, so
		// summing them with those that did would mean nothing.
		counterFunc("openum_rtp_packets_lost_total",
			"RTP packets of the calls that ended that never came: gaps in the callers' sequence numbers (RFC 3550 A.3).", st.RTPLost.Load)
	}
	if sp := src.Spool; sp != nil {
		counterFunc("openum_voice_messages_spooled_total", "Voice messages queued in the delivery spool.", sp.Spooled)
	}
	if l := src.Logon; l != nil {
		counterFunc("openum_logons_total", "Subscriber logons by PIN that succeeded.", l.Logons.Load)
		counterFunc("openum_logon_failures_total", "Subscriber logon attempts that failed (wrong, locked out, cooling down).", l.Failures.Load)
		counterFunc("openum_lockouts_total", "Mailboxes locked out after failed logons (1012).", l.LockOuts.Load)
	}
	return reg
}

var (
	callsDesc = prometheus.NewDesc("openum_calls_in_progress",
		"Answered calls in progress, by dial plan and its VoIP security mode.", []string{"dialplan", "mode"}, nil)
	queueDesc = prometheus.NewDesc("openum_delivery_queue_messages",
		"Messages waiting in the delivery spool.", nil, nil)
	oldestDesc = prometheus.NewDesc("openum_delivery_queue_oldest_age_seconds",
		"How long the oldest message in the delivery spool has waited (0 when none).", nil, nil)
	certDesc = prometheus.NewDesc("openum_certificate_expiry_timestamp_seconds",
		"When the certificate in use expires (NotAfter), in Unix seconds; its SHA-1 thumbprint as label.", []string{"thumbprint"}, nil)
)

// gauges reads what is true now at each scrape: the calls, the queue, the
// certificate.
type gauges struct{ src Sources }

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- callsDesc
	ch <- queueDesc
	ch <- oldestDesc
	ch <- certDesc
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	if s := g.src.SIP; s != nil {
		for _, c := range s.CallsInProgress() {
			ch <- prometheus.MustNewConstMetric(callsDesc, prometheus.GaugeValue, float64(c.Calls), c.DialPlan, string(c.Mode))
		}
	}
	if sp := g.src.Spool; sp != nil {
		if n, oldest, err := sp.Depth(); err == nil {
			ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n))
			age := 0.0
			if !oldest.IsZero() {
				age = time.Since(oldest).Seconds()
			}
			ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
		}
	}
	if m := g.src.Certs; m != nil {
		c := m.Current()
		ch <- prometheus.MustNewConstMetric(certDesc, prometheus.GaugeValue, float64(c.X509.NotAfter.Unix()), c.Thumbprint())
	}
}

// collectFunc is a collector of one metric family built at each scrape.
func collectFunc(desc *prometheus.Desc, collect func(chan<- prometheus.Metric)) prometheus.Collector {
	return &funcCollector{desc: desc, collect: collect}
}

type funcCollector struct {
	desc    *prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (f *funcCollector) Describe(ch chan<- *prometheus.Desc) { ch <- f.desc }
func (f *funcCollector) Collect(ch chan<- prometheus.Metric) { f.collect(ch) }
