package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/spf13/cobra"

	"github.com/hotline12345/intake-gateway/config"
)

func configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Inspect the configuration",
	}
	var path string
	check := &cobra.Command{
		Use:   "check",
		Short: "Load and validate a config file; every problem is reported with its key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resolved := config.ResolvePath(path)
			cfg, err := config.Load(resolved, nil)
			if err == nil {
				err = checkChannels(cfg, cmd.ErrOrStderr())
			}
			if err == nil && cfg.Open311.Enabled {
				_, err = loadOpen311Catalog(cfg)
			}
			if err != nil {
				return fmt.Errorf("config %s is not valid:\n%w", describePath(resolved), err)
			}
			store := "embedded SQLite at " + cfg.Database.SQLitePath
			if cfg.Database.URL != "" {
				store = "PostgreSQL"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "config %s is valid: listen %s, store %s, %d API keys, %d case systems, %d channels\n",
				describePath(resolved), cfg.Server.Listen, store, len(cfg.APIKeys), len(cfg.CaseSystems), len(cfg.Channels))
			return nil
		},
	}
	addConfigFlag(check, &path)
	cmd.AddCommand(check)
	return cmd
}

func describePath(p string) string {
	if p == "" {
		return "(built-in defaults)"
	}
	return p
}

// checkChannels builds every channel adapter, the platform API clients and the reply texts
// without serving, so that channel-specific settings and menu mappings are checked too. A
// channel that can receive but not send is reported as a warning, not an error.
func checkChannels(cfg *config.Config, warnings io.Writer) error {
	texts, err := loadReplies(cfg)
	if err != nil {
		return err
	}
	if _, err := menus(cfg, texts); err != nil {
		return err
	}
	deps := channels.Deps{Receiver: checkOnly{}, Logger: slog.New(slog.DiscardHandler), Clock: intake.SystemClock, Metrics: prometheus.NewRegistry(), PublicBaseURL: cfg.Server.PublicBaseURL, TrustedProxies: cfg.Server.TrustedProxies}
	var errs []error
	for _, ch := range cfg.Channels {
		if _, err := newAdapter(ch, deps, nil); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		warn := slog.New(slog.NewTextHandler(warnings, &slog.HandlerOptions{Level: slog.LevelWarn}))
		if _, _, _, err := platformClients(cfg, nil, nil, warn); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkOnly stands in for the conversation when adapters are built only to check their settings.
type checkOnly struct{}

func (checkOnly) Receive(context.Context, app.Message) (app.Reply, error) {
	return app.Reply{}, errors.New("config check does not serve")
}

func (checkOnly) Event(context.Context, app.Event) (app.Reply, error) {
	return app.Reply{}, errors.New("config check does not serve")
}
