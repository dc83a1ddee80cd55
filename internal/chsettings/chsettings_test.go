package chsettings_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/internal/chsettings"
)

type nested struct {
	Header string `mapstructure:"header"`
}

type target struct {
	Window    *time.Duration    `mapstructure:"window"`
	Limit     *int              `mapstructure:"limit"`
	Signature nested            `mapstructure:"signature"`
	Labels    map[string]string `mapstructure:"labels"`
}

var own = []string{"window", "limit", "signature", "labels"}

func TestDecode(t *testing.T) {
	var got target
	problems := chsettings.Decode(map[string]any{
		"window": "5m", "limit": 3, "signature": map[string]any{"header": "X-Sig"},
		"labels":     map[string]any{"a": "b"},
		"app_secret": "belongs to the common config", // not ours: ignored
	}, own, &got)
	if problems != nil {
		t.Fatalf("problems: %v", problems)
	}
	if *got.Window != 5*time.Minute || *got.Limit != 3 || got.Signature.Header != "X-Sig" || got.Labels["a"] != "b" {
		t.Fatalf("decoded %+v", got)
	}
}

func TestDecodeReportsEachProblemWithItsKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   map[string]any
		want []chsettings.Problem
	}{
		{"typo under an own key", map[string]any{"signature": map[string]any{"hedaer": "X"}},
			[]chsettings.Problem{{Key: "signature", Message: "unknown key(s): hedaer"}}},
		{"duration without a unit", map[string]any{"window": 300},
			[]chsettings.Problem{{Key: "window", Message: "must be a duration with a unit such as 5m or 3s, got 300"}}},
		{"unparsable duration", map[string]any{"window": "five minutes"},
			[]chsettings.Problem{{Key: "window", Message: `must be a duration such as 5m or 3s, got "five minutes"`}}},
		{"wrong type in a map", map[string]any{"labels": map[string]any{"k": []any{1}}},
			[]chsettings.Problem{{Key: "labels.k", Message: "must be a string, got [1]"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got target
			if problems := chsettings.Decode(tc.in, own, &got); !reflect.DeepEqual(problems, tc.want) {
				t.Fatalf("problems %q, want %q", problems, tc.want)
			}
		})
	}
}
