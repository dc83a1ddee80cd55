package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"

	"github.com/spf13/cobra"
)

var keyName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func apikeyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikey",
		Short: "Manage REST API keys",
	}
	var scopes []string
	newCmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Make a fresh API key: prints the key once and the sha256 to put in the config",
		Long: `Makes a random API key for the client NAME. The key itself is printed once and is not
stored anywhere; give it to the client. Put the printed api_keys entry (which holds only the
key's SHA-256) into the config file.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if !keyName.MatchString(name) {
				return fmt.Errorf("NAME must be 1-64 letters, digits, '.', '_' or '-'")
			}
			raw := make([]byte, 32)
			if _, err := rand.Read(raw); err != nil {
				return fmt.Errorf("read random bytes: %w", err)
			}
			key := "ig_" + base64.RawURLEncoding.EncodeToString(raw)
			sum := sha256.Sum256([]byte(key))
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "key:    %s\n", key)
			fmt.Fprintf(out, "sha256: %s\n\n", hex.EncodeToString(sum[:]))
			fmt.Fprintln(out, "Add to api_keys in the config (the key above is shown only now):")
			fmt.Fprintf(out, "  - { name: %s, sha256: \"%s\", scopes: [%s] }\n", name, hex.EncodeToString(sum[:]), joinScopes(scopes))
			return nil
		},
	}
	newCmd.Flags().StringSliceVar(&scopes, "scopes", []string{"submit", "read"}, "scopes for the config snippet: submit, read, events, admin")
	cmd.AddCommand(newCmd)
	return cmd
}

func joinScopes(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ", "
		}
		out += v
	}
	return out
}
