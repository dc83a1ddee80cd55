package suggest

import "testing"

func TestNearest(t *testing.T) {
	known := []string{"request_timeout", "listen", "forwarding", "rate", "app_secret"}
	for name, want := range map[string]string{
		"request_timout": "request_timeout", // a letter left out
		"forwardng":      "forwarding",
		"rtae":           "rate", // two letters swapped
		"app_secert":     "app_secret",
		"listn":          "listen",
		"colour":         "", // nothing near
		"x":              "",
	} {
		if got := Nearest(name, known); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", name, got, want)
		}
	}
	if Distance("abc", "acb") != 1 || Distance("", "abc") != 3 || Distance("kitten", "sitting") != 3 {
		t.Error("distance")
	}
}
