package main

import (
	"fmt"

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
