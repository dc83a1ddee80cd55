package main

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/hotline12345/intake-gateway/internal/metrics"
)

func migrateCommand() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Bring the store's schema (gateway tables and job queue) up to date",
		Long: `Applies the gateway's and the job queue's migrations to the configured store. serve does
the same at start; on PostgreSQL an advisory lock lets several replicas start at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := loadConfig(path)
			if err != nil {
				return err
			}
			logger := newLogger(cfg)
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			st, kind, err := openStore(ctx, cfg, logger, metrics.New(prometheus.NewRegistry()), nil)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Migrate(ctx); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s store migrated\n", kind)
			return nil
		},
	}
	addConfigFlag(cmd, &path)
	return cmd
}
