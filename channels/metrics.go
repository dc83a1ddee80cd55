package channels

import (
	"errors"
	"regexp"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the counters every webhook channel keeps, per channel instance:
// intake_<platform>_requests_total{channel_id,type}, _unknown_total{channel_id,type},
// _rejected_total{channel_id,reason} and _failed_total{channel_id}.
type Metrics struct {
	Requests *prometheus.CounterVec // authenticated pushes, by type
	Unknown  *prometheus.CounterVec // pushes of a type the gateway does not handle, by type
	Rejected *prometheus.CounterVec // 4xx answers, by reason
	Failed   prometheus.Counter     // 5xx answers (not acknowledged; the platform retries)
	// Refused is intake_webhook_refused_total for this channel: every platform's 4xx refusals in
	// one metric, so one alert and one panel cover them all.
	Refused *prometheus.CounterVec

	mu     sync.Mutex
	labels map[string]struct{}
}

// maxTypeLabels bounds the type label values of one channel: the type comes from the request,
// and an unbounded label would let a sender grow the metrics without end.
const maxTypeLabels = 40

var labelUnsafe = regexp.MustCompile(`[^A-Za-z0-9_:]`)

// TypeLabel makes a request's type safe to use as a label value.
func (m *Metrics) TypeLabel(t string) string {
	t = labelUnsafe.ReplaceAllString(t, "_")
	if len(t) > 40 {
		t = t[:40]
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.labels[t]; ok {
		return t
	}
	if len(m.labels) >= maxTypeLabels {
		return "other"
	}
	m.labels[t] = struct{}{}
	return t
}

// NewMetrics registers (or, for a second channel of the same platform, reuses) the platform's
// counters on reg and returns them curried with channelID. name is the platform as people say
// it, for the help texts.
func NewMetrics(reg prometheus.Registerer, platform, name, channelID string) (*Metrics, error) {
	vec := func(metric, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "intake", Subsystem: platform, Name: metric, Help: help}, labels)
	}
	requests := vec("requests_total", "Authenticated "+name+" pushes, by channel and type (event:<kind> for events).", "channel_id", "type")
	unknown := vec("unknown_total", name+" pushes of a type this gateway does not handle, acknowledged without a case.", "channel_id", "type")
	rejected := vec("rejected_total", name+" requests refused with a 4xx, by reason.", "channel_id", "reason")
	failed := vec("failed_total", name+" pushes answered 5xx (not acknowledged; the platform retries).", "channel_id")
	if reg != nil {
		for _, p := range []**prometheus.CounterVec{&requests, &unknown, &rejected, &failed} {
			if err := reg.Register(*p); err != nil {
				var are prometheus.AlreadyRegisteredError
				if !errors.As(err, &are) {
					return nil, err
				}
				existing, ok := are.ExistingCollector.(*prometheus.CounterVec)
				if !ok {
					return nil, err
				}
				*p = existing
			}
		}
	}
	refused, err := RefusedCounter(reg, platform, channelID)
	if err != nil {
		return nil, err
	}
	cur := prometheus.Labels{"channel_id": channelID}
	return &Metrics{
		Refused:  refused,
		Requests: requests.MustCurryWith(cur),
		Unknown:  unknown.MustCurryWith(cur),
		Rejected: rejected.MustCurryWith(cur),
		Failed:   failed.With(cur),
		labels:   map[string]struct{}{},
	}, nil
}

// RefusedCounter registers (or reuses) intake_webhook_refused_total{platform,channel_id,reason},
// the refusals of every webhook channel, and returns it curried with platform and channel id:
// what is left to label is the refusal's reason (bad_signature, stale_timestamp, …).
func RefusedCounter(reg prometheus.Registerer, platform, channelID string) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "intake", Subsystem: "webhook", Name: "refused_total",
		Help: "Webhook requests of every platform refused with a 4xx before reaching the core, by platform, channel and reason.",
	}, []string{"platform", "channel_id", "reason"})
	if reg != nil {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
			existing, ok := are.ExistingCollector.(*prometheus.CounterVec)
			if !ok {
				return nil, err
			}
			c = existing
		}
	}
	curried := c.MustCurryWith(prometheus.Labels{"platform": platform, "channel_id": channelID})
	// Signature refusals start at zero: an alert on their rate then has a series from the start.
	curried.WithLabelValues("bad_signature")
	return curried, nil
}
