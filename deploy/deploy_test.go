// Package deploy_test checks the deployment files where no Docker daemon or systemd can: that
// the compose file wires what the README promises, that the gateways' config in it is valid,
// and that the image and the unit keep their hardening.
package deploy_test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hotline12345/intake-gateway/config"
)

type service struct {
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command"`
	ReadOnly    bool              `yaml:"read_only"`
	CapDrop     []string          `yaml:"cap_drop"`
	Ports       []string          `yaml:"ports"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Networks    yaml.Node         `yaml:"networks"`
}

func readCompose(t *testing.T) map[string]service {
	t.Helper()
	raw, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]service `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return doc.Services
}

// TestComposeWiresTwoHardenedReplicasBehindTheProxy: PostgreSQL, two gateway replicas (read-only
// root, no capabilities, not published: only the proxy is), the proxy on the fixed address the
// gateways trust, Prometheus and Grafana with the files of this directory.
func TestComposeWiresTwoHardenedReplicasBehindTheProxy(t *testing.T) {
	svcs := readCompose(t)
	for _, name := range []string{"postgres", "gateway-1", "gateway-2", "proxy", "prometheus", "grafana", "jaeger"} {
		if _, ok := svcs[name]; !ok {
			t.Fatalf("no service %s", name)
		}
	}
	for _, name := range []string{"gateway-1", "gateway-2"} {
		g := svcs[name]
		if !g.ReadOnly || !slices.Contains(g.CapDrop, "ALL") || len(g.Ports) != 0 {
			t.Errorf("%s: read_only=%v cap_drop=%v ports=%v", name, g.ReadOnly, g.CapDrop, g.Ports)
		}
		if !slices.Contains(g.Command, "/etc/intake-gateway/gateway.yaml") ||
			!slices.Contains(g.Volumes, "./gateway.compose.yaml:/etc/intake-gateway/gateway.yaml:ro") {
			t.Errorf("%s does not run with gateway.compose.yaml: %v %v", name, g.Command, g.Volumes)
		}
	}
	for _, name := range []string{"prometheus", "grafana", "jaeger"} {
		for _, p := range svcs[name].Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s is published beyond this host: %s", name, p)
			}
		}
	}
	var proxyNets map[string]struct {
		IPv4 string `yaml:"ipv4_address"`
	}
	proxy := svcs["proxy"]
	if err := proxy.Networks.Decode(&proxyNets); err != nil {
		t.Fatal(err)
	}
	proxyIP := proxyNets["edge"].IPv4
	if proxyIP == "" {
		t.Fatal("the proxy has no fixed address on the edge network")
	}
	if !slices.Contains(proxy.Volumes, "./caddy/Caddyfile:/etc/caddy/Caddyfile:ro") {
		t.Fatalf("proxy volumes %v", proxy.Volumes)
	}

	// The gateways' config is valid with the variables compose passes, and trusts exactly the
	// proxy's address.
	// compose substitutes ${VAR:?…} and ${VAR:-default} from the shell: do the same here.
	shell := map[string]string{"POSTGRES_PASSWORD": "secret", "OPERATOR_KEY_SHA256": strings.Repeat("ab", 32), "PUBLIC_BASE_URL": "https://intake.example.gov.cn"}
	subst := regexp.MustCompile(`\$\{([A-Z0-9_]+)(?::[-?]([^}]*))?\}`)
	var env []string
	for k, v := range svcs["gateway-1"].Environment {
		if strings.HasPrefix(k, config.EnvPrefix) {
			t.Errorf("compose passes %s, which the gateway would read as a config override", k)
		}
		env = append(env, k+"="+subst.ReplaceAllStringFunc(v, func(m string) string {
			g := subst.FindStringSubmatch(m)
			if v, ok := shell[g[1]]; ok {
				return v
			}
			if strings.HasPrefix(m[len("${")+len(g[1]):], ":-") {
				return g[2]
			}
			return ""
		}))
	}
	cfg, err := config.Load("gateway.compose.yaml", env)
	if err != nil {
		t.Fatalf("gateway.compose.yaml: %v", err)
	}
	if fmt.Sprint(cfg.Server.TrustedProxies) != "["+proxyIP+"/32]" {
		t.Errorf("server.trusted_proxies %v, want the proxy's %s", cfg.Server.TrustedProxies, proxyIP)
	}
	// Traces go to the compose file's own trace store, on the network both share.
	var jaegerNets []string
	jaeger := svcs["jaeger"]
	if err := jaeger.Networks.Decode(&jaegerNets); err != nil {
		t.Fatal(err)
	}
	if cfg.Telemetry.OTLPEndpoint != "http://jaeger:4318" || !slices.Contains(jaegerNets, "backend") {
		t.Errorf("telemetry.otlp_endpoint %q; jaeger networks %v", cfg.Telemetry.OTLPEndpoint, jaegerNets)
	}
	if !strings.HasPrefix(cfg.Database.URL, "postgres://intake:secret@postgres:5432/") || cfg.Server.AdminAddress() == "" {
		t.Errorf("database %q, admin %q", cfg.Database.URL, cfg.Server.AdminAddress())
	}

	// The proxy caps bodies and never forwards what is not public.
	caddy, err := os.ReadFile("caddy/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"max_size", "@public path /hooks/* /v1/*", "respond 404", "health_uri /readyz", "gateway-1:8080 gateway-2:8080"} {
		if !strings.Contains(string(caddy), want) {
			t.Errorf("Caddyfile lacks %q", want)
		}
	}
	prom, err := os.ReadFile("prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(prom), `"gateway-1:9464", "gateway-2:9464"`) || !strings.HasSuffix(cfg.Server.AdminAddress(), ":9464") {
		t.Errorf("Prometheus does not scrape both admin listeners (%s)", cfg.Server.AdminAddress())
	}
}

// TestImageIsStaticNonRootAndReadOnlyReady reads the Dockerfile: two stages, a static binary,
// a non-root user and the data directory as a volume.
func TestImageIsStaticNonRootAndReadOnlyReady(t *testing.T) {
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	if n := len(regexp.MustCompile(`(?m)^FROM `).FindAllString(df, -1)); n != 2 {
		t.Errorf("%d stages, want 2", n)
	}
	user := regexp.MustCompile(`(?m)^USER (\S+)`).FindStringSubmatch(df)
	if user == nil || strings.HasPrefix(user[1], "0") || strings.HasPrefix(user[1], "root") {
		t.Errorf("USER %v", user)
	}
	for _, want := range []string{"CGO_ENABLED=0", "VOLUME [\"/var/lib/intake-gateway\"]", "static-debian12:nonroot", "INTAKE_DATABASE__SQLITE_PATH=/var/lib/intake-gateway/"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

// TestUnitIsHardened: the systemd unit keeps the options the README names.
func TestUnitIsHardened(t *testing.T) {
	raw, err := os.ReadFile("systemd/intake-gateway.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"User=intake-gateway", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
		"PrivateDevices=yes", "StateDirectory=intake-gateway", "CapabilityBoundingSet=\n", "SystemCallFilter=@system-service", "ExecReload=/bin/kill -HUP $MAINPID"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("unit lacks %q", strings.TrimSpace(want))
		}
	}
}
