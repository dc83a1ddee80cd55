// Command intake-gateway runs the 12345 hotline intake gateway and its operator tools. This
// package is the only place that wires the pieces together: config, store, intake service,
// HTTP server and channels.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if err := rootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "intake-gateway",
		Short: "Multichannel intake gateway for a city's 12345 government service hotline",
		Long: `intake-gateway turns citizen submissions from WeChat, SMS, Weibo, phone transcripts and
hotline systems into canonical case records, stores them durably, answers the citizen on the
same channel and forwards each case to the hotline's case system.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCommand(), migrateCommand(), configCommand(), apikeyCommand(), deliveriesCommand(), classifyCommand(), userCommand(), reportCommand(), versionCommand(), backupCommand())
	return root
}

// addConfigFlag registers --config on a command.
func addConfigFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, "config", "", "path to the YAML config (default configs/gateway.yaml when present, else built-in defaults)")
}
