package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/hotline12345/intake-gateway/store/sqlite"
)

func backupCommand() *cobra.Command {
	var path, out string
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Write a consistent copy of the embedded SQLite store, while the gateway serves",
		Long: `Copies the embedded store (database.sqlite_path) to FILE as it stands when the backup
begins: every case committed before then is in the copy. The gateway may keep serving meanwhile.
FILE must not exist. Attachments (database.attachments_dir) are plain files: copy them as well.
A PostgreSQL store is backed up with PostgreSQL's own tools (pg_dump, base backups and WAL
archiving); see README, "Deploying".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out FILE is required")
			}
			cfg, _, err := loadConfig(path)
			if err != nil {
				return err
			}
			if cfg.Database.URL != "" {
				return errors.New("database.url is set: back up PostgreSQL with pg_dump or base backups and WAL archiving (README, Deploying)")
			}
			if err := sqlite.Backup(cmd.Context(), cfg.Database.SQLitePath, out); err != nil {
				return err
			}
			info, err := os.Stat(out)
			if err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backup of %s written to %s (%d bytes)\n", cfg.Database.SQLitePath, out, info.Size())
			return nil
		},
	}
	addConfigFlag(cmd, &path)
	cmd.Flags().StringVar(&out, "out", "", "file to write the copy to (must not exist)")
	return cmd
}
