// Package prometheus_test checks the alerting rules in this directory with promtool: the rules
// load, and their unit tests (alerts_test.yaml) pass.
package prometheus_test

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"go.yaml.in/yaml/v3"
)

// promtool finds promtool. Without it the test is skipped on a developer's machine, but under
// CI=true it installs Debian's prometheus package and fails if that does not work: CI must never
// pass without having run the alert tests.
func promtool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	if os.Getenv("CI") != "true" {
		t.Skip("promtool not installed (Debian package prometheus; scripts/check-deploy.sh installs it); under CI=true this test installs it")
	}
	apt := func(args ...string) ([]byte, error) {
		if os.Geteuid() != 0 {
			args = append([]string{"sudo", "-n", "apt-get"}, args...)
		} else {
			args = append([]string{"apt-get"}, args...)
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	if out, err := apt("install", "-y", "-q", "--no-install-recommends", "prometheus"); err != nil {
		// The package lists may be missing or stale on a fresh machine.
		if uout, uerr := apt("update", "-q"); uerr != nil {
			t.Fatalf("promtool missing; apt-get install failed (%v: %s) and apt-get update too: %v\n%s", err, out, uerr, uout)
		}
		if out, err := apt("install", "-y", "-q", "--no-install-recommends", "prometheus"); err != nil {
			t.Fatalf("promtool missing and apt-get install prometheus failed: %v\n%s", err, out)
		}
	}
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool still missing after installing prometheus: %v", err)
	}
	return p
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out.String())
	}
}

func TestRulesLoadAndTheirUnitTestsPass(t *testing.T) {
	p := promtool(t)
	run(t, p, "check", "rules", "alerts.yaml")
	run(t, p, "test", "rules", "alerts_test.yaml")
}

// TestEveryAlertHasAFiringUnitTest: promtool passes a test file that never mentions an alert, so
// this checks that each alert of alerts.yaml is expected to fire somewhere in alerts_test.yaml
// (and, for each, that some evaluation expects it silent).
func TestEveryAlertHasAFiringUnitTest(t *testing.T) {
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				AlertName string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	read := func(path string, v any) {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(raw, v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	read("alerts.yaml", &rules)
	read("alerts_test.yaml", &tests)
	firing, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				firing[a.AlertName] = true
			} else {
				silent[a.AlertName] = true
			}
		}
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			if !firing[r.Alert] {
				t.Errorf("alert %s: no unit test expects it to fire", r.Alert)
			}
			if !silent[r.Alert] {
				t.Errorf("alert %s: no unit test expects it to stay silent", r.Alert)
			}
		}
	}
	if n < 6 {
		t.Fatalf("alerts.yaml has %d alerts", n)
	}
}
