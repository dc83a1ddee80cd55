package main

import (
	"strings"
	"testing"
	"time"
)

func TestTimingVerdict(t *testing.T) {
	for _, c := range []struct {
		name          string
		attack, floor ratios
		met, ok       bool
		says          string
	}{
		{"within the bound", ratios{Throughput: 0.97, P50: 1.08}, ratios{Throughput: 0.99, P50: 1.02}, true, true, "PASS"},
		{"throughput fell", ratios{Throughput: 0.85, P50: 1.02}, ratios{Throughput: 0.99, P50: 1.01}, false, false, "FAIL"},
		{"slower, floor fine", ratios{Throughput: 1, P50: 1.2}, ratios{Throughput: 1, P50: 1.05}, false, false, "FAIL"},
		// The floor alone is past the bound: the gateway is held to 10 % of it, and the bound is
		// never reported as met.
		{"floor past, gateway near it", ratios{Throughput: 0.98, P50: 1.40}, ratios{Throughput: 0.99, P50: 1.30}, false, true, "unattainable"},
		{"floor past, gateway far beyond", ratios{Throughput: 0.98, P50: 1.60}, ratios{Throughput: 0.99, P50: 1.30}, false, false, "more than 10 % beyond the floor"},
	} {
		met, ok, line := timingVerdict(c.attack, c.floor)
		if met != c.met || ok != c.ok || !strings.Contains(line, c.says) {
			t.Errorf("%s: met %v ok %v %q; want met %v ok %v and %q", c.name, met, ok, line, c.met, c.ok, c.says)
		}
		if !met && strings.Contains(line, "PASS") {
			t.Errorf("%s: claims PASS without the bound: %q", c.name, line)
		}
	}
}

func TestMedianRatiosOverRounds(t *testing.T) {
	q := phase{PerSecond: 100, P50: 10 * time.Millisecond, P99: 20 * time.Millisecond}
	at := func(p50 time.Duration, perSecond float64) phase {
		return phase{PerSecond: perSecond, P50: p50, P99: 2 * p50}
	}
	r := abuseResult{Rounds: []round{
		{Quiet: q, Attack: at(11*time.Millisecond, 100), Floor: at(10*time.Millisecond, 100)},
		{Quiet: q, Attack: at(30*time.Millisecond, 50), Floor: at(12*time.Millisecond, 90)}, // one noisy round
		{Quiet: q, Attack: at(12*time.Millisecond, 95), Floor: at(11*time.Millisecond, 100)},
	}}
	attack, floor := r.medianRatios()
	if attack.P50 != 1.2 || attack.Throughput != 0.95 || floor.P50 != 1.1 || floor.Throughput != 1 {
		t.Fatalf("medians: attack %+v, floor %+v", attack, floor)
	}
}

func TestCPUPerBadRequestIsTheAttacksExtraCost(t *testing.T) {
	cpu := func(quiet, attack, floor time.Duration) round {
		return round{Quiet: phase{GatewayCPU: quiet}, Attack: phase{GatewayCPU: attack}, Floor: phase{GatewayCPU: floor}}
	}
	r := abuseResult{
		BadSent: []int{10_000, 10_000, 10_000},
		Rounds: []round{
			cpu(2*time.Second, 3*time.Second, 2*time.Second),                         // 100 µs each
			cpu(2100*time.Millisecond, 2800*time.Millisecond, 1900*time.Millisecond), // 80 µs
			cpu(2*time.Second, 4*time.Second, 2*time.Second),                         // 200 µs
		},
	}
	if got := r.cpuPerBadRequest(); got != 100*time.Microsecond {
		t.Fatalf("CPU per bad request %s, want the median 100µs", got)
	}
}

// A note whose work ends later keeps the place of the event it is about.
func TestNotebookKeepsTheOrderOfEvents(t *testing.T) {
	var n notebook
	release := make(chan struct{})
	note := n.slot()
	n.later(func() { <-release; note("kill 1: delivered") })
	n.add("kill 1: ready")
	n.add("kill 2: ready")
	close(release)
	got := strings.Join(n.lines(), "; ")
	if want := "kill 1: delivered; kill 1: ready; kill 2: ready"; got != want {
		t.Fatalf("notes %q, want %q", got, want)
	}
}
