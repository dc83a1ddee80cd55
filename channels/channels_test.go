package channels_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/internal/app"
)

func TestRouteIDProblem(t *testing.T) {
	for _, id := range []string{"wechat-main", "sms.2", "a_b~c", "W1"} {
		if p := channels.RouteIDProblem(id); p != "" {
			t.Errorf("%q refused: %s", id, p)
		}
	}
	// ':' and '*' mean parameters and wildcards to echo; the rest would change the URL.
	for _, id := range []string{"", "-lead", "a:b", "a*", "a/b", "a?b", "a#b", "a%20", "a b", "微信"} {
		if p := channels.RouteIDProblem(id); !strings.Contains(p, "URL path segment") {
			t.Errorf("%q accepted", id)
		}
	}
}

type nobody struct{}

func (nobody) Receive(context.Context, app.Message) (app.Reply, error) {
	return app.Reply{}, nil
}
func (nobody) Event(context.Context, app.Event) (app.Reply, error) {
	return app.Reply{}, nil
}

func TestCommonFillsDefaultsAndNeedsAReceiver(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := (channels.Deps{Metrics: reg}).Common("wechat", "WeChat", "wx-1"); err == nil || !strings.Contains(err.Error(), "Receiver") {
		t.Fatalf("no receiver: %v", err)
	}
	c, err := channels.Deps{Receiver: nobody{}, Metrics: reg}.Common("wechat", "WeChat", "wx-1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Logger == nil || c.Clock == nil || c.Metrics == nil || c.Receiver == nil {
		t.Fatalf("defaults not filled: %+v", c)
	}
	if d := time.Since(c.Clock.Now()); d < 0 || d > time.Minute {
		t.Fatalf("default clock is not the system clock: off by %s", d)
	}
	// A second channel of the same platform shares the registered counters.
	if _, err := (channels.Deps{Receiver: nobody{}, Metrics: reg}).Common("wechat", "WeChat", "wx-2"); err != nil {
		t.Fatalf("second channel: %v", err)
	}
}
