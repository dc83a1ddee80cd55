package deploy_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads compose.yaml the way `docker compose config` does (compose-go is the loader
// Docker Compose itself uses): the Compose specification's JSON schema, interpolation,
// normalisation and the consistency checks (networks, volumes and services that are referred to
// exist). No Docker client with compose exists on these machines, so this is the check CI runs.
func loadCompose(t *testing.T, env []string) (*types.Project, error) {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"compose.yaml"},
		cli.WithEnv(env), cli.WithName("intake-gateway"), cli.WithConsistency(true),
		cli.WithInterpolation(true), cli.WithNormalization(true), cli.WithResolvedPaths(true))
	if err != nil {
		t.Fatal(err)
	}
	return cli.ProjectFromOptions(context.Background(), opts)
}

func TestComposeFileIsValidForCompose(t *testing.T) {
	p, err := loadCompose(t, []string{"POSTGRES_PASSWORD=check", "OPERATOR_KEY_SHA256=check"})
	if err != nil {
		t.Fatalf("docker compose config would refuse compose.yaml: %v", err)
	}
	for _, name := range []string{"postgres", "gateway-1", "gateway-2", "proxy", "prometheus", "grafana"} {
		if _, err := p.GetService(name); err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
	}
	// Every file the services mount from this directory exists: a typo here starts a container
	// with an empty directory where its config should be.
	for _, svc := range p.Services {
		for _, v := range svc.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s mounts %s, which does not exist: %v", svc.Name, v.Source, err)
			}
		}
	}
	gw, _ := p.GetService("gateway-1")
	if dsn := gw.Environment["DATABASE_URL"]; dsn == nil || !strings.Contains(*dsn, ":check@postgres:5432/") {
		t.Errorf("gateway-1's DATABASE_URL was not interpolated from POSTGRES_PASSWORD: %v", dsn)
	}
	if _, ok := gw.DependsOn["postgres"]; !ok {
		t.Errorf("gateway-1 does not wait for postgres: %v", gw.DependsOn)
	}
	if abs, _ := filepath.Abs("caddy/Caddyfile"); !mountsSource(p, "proxy", abs) {
		t.Error("the proxy does not mount caddy/Caddyfile")
	}
}

// Without the secrets the operator must choose, compose refuses to start rather than run with an
// empty database password.
func TestComposeRefusesToStartWithoutSecrets(t *testing.T) {
	for _, missing := range []string{"POSTGRES_PASSWORD", "OPERATOR_KEY_SHA256"} {
		env := []string{"POSTGRES_PASSWORD=check", "OPERATOR_KEY_SHA256=check"}
		var kept []string
		for _, e := range env {
			if !strings.HasPrefix(e, missing+"=") {
				kept = append(kept, e)
			}
		}
		_, err := loadCompose(t, kept)
		if err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("without %s: %v", missing, err)
		}
	}
}

func mountsSource(p *types.Project, service, source string) bool {
	svc, err := p.GetService(service)
	if err != nil {
		return false
	}
	for _, v := range svc.Volumes {
		if v.Source == source {
			return true
		}
	}
	return false
}
