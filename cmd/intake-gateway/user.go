package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/console"
)

func userCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage the operator console's accounts",
	}
	var (
		path string
		role string
	)
	add := &cobra.Command{
		Use:   "add NAME --role viewer|operator|admin",
		Short: "Create a console account; the password is read from stdin (prompted on a terminal)",
		Long: `Creates an operator account of the console (/console). Roles: viewer sees figures and
cases with personal data masked; operator may also reveal a case's personal data (audited) and
correct classifications; admin may also read the audit log.

The password (at least 10 characters) is prompted for twice on a terminal, without echo;
otherwise the first line of stdin is the password, so that a script can pipe it in. It is stored
as an argon2id hash. The creation is recorded in the audit log.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := intake.Role(role)
			if !r.Valid() {
				return fmt.Errorf("--role must be viewer, operator or admin, not %q", role)
			}
			password, err := readPassword(cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return withStore(cmd.Context(), path, func(ctx context.Context, st intake.Store) error {
				accounts, ok := st.(console.Accounts)
				if !ok {
					return errors.New("this store keeps no console accounts")
				}
				u, err := console.AddUser(ctx, accounts, args[0], r, password, console.DefaultPasswordParams, cliActor(), intake.ActorCLI)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "user %s (%s) created\n", u.Name, u.Role)
				return nil
			})
		},
	}
	add.Flags().StringVar(&role, "role", "", "viewer, operator or admin (required)")
	_ = add.MarkFlagRequired("role")

	// accounts runs fn with the store's account role.
	accounts := func(cmd *cobra.Command, fn func(ctx context.Context, st console.Accounts) error) error {
		return withStore(cmd.Context(), path, func(ctx context.Context, st intake.Store) error {
			a, ok := st.(console.Accounts)
			if !ok {
				return errors.New("this store keeps no console accounts")
			}
			return fn(ctx, a)
		})
	}
	report := func(cmd *cobra.Command, what string) func(intake.User, error) error {
		return func(u intake.User, err error) error {
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "user %s (%s): %s; its sessions ended\n", u.Name, u.Role, what)
			return nil
		}
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the console's accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return accounts(cmd, func(ctx context.Context, st console.Accounts) error {
				users, err := st.ListUsers(ctx)
				if err != nil {
					return err
				}
				for _, u := range users {
					state := "active"
					if u.Disabled {
						state = "disabled"
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%-24s %-9s %-9s created %s\n", u.Name, u.Role, state, u.CreatedAt.Format(time.RFC3339))
				}
				return nil
			})
		},
	}
	disable := &cobra.Command{
		Use:   "disable NAME",
		Short: "Disable an account and end its sessions at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return accounts(cmd, func(ctx context.Context, st console.Accounts) error {
				return report(cmd, "disabled")(console.SetDisabled(ctx, st, args[0], true, cliActor(), intake.ActorCLI))
			})
		},
	}
	enable := &cobra.Command{
		Use:   "enable NAME",
		Short: "Enable a disabled account",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return accounts(cmd, func(ctx context.Context, st console.Accounts) error {
				return report(cmd, "enabled")(console.SetDisabled(ctx, st, args[0], false, cliActor(), intake.ActorCLI))
			})
		},
	}
	setRole := &cobra.Command{
		Use:   "role NAME viewer|operator|admin",
		Short: "Give an account another role (its sessions end, so the role applies at once)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return accounts(cmd, func(ctx context.Context, st console.Accounts) error {
				return report(cmd, "role changed")(console.SetRole(ctx, st, args[0], intake.Role(args[1]), cliActor(), intake.ActorCLI))
			})
		},
	}
	passwd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set an account's password, read as by user add (its sessions end)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			password, err := readPassword(cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return accounts(cmd, func(ctx context.Context, st console.Accounts) error {
				return report(cmd, "password changed")(console.SetPassword(ctx, st, args[0], password, console.DefaultPasswordParams, cliActor(), intake.ActorCLI))
			})
		},
	}
	for _, c := range []*cobra.Command{add, list, disable, enable, setRole, passwd} {
		addConfigFlag(c, &path)
		cmd.AddCommand(c)
	}
	return cmd
}

// cliActor names who ran a command, for the audit log.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "cli"
}

// readPassword prompts twice without echo on a terminal, and otherwise reads stdin's first line.
func readPassword(in io.Reader, prompt io.Writer) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(prompt, "Password: ")
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(prompt, "Password again: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(first) != string(second) {
			return "", errors.New("the passwords differ")
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on stdin")
	}
	return line, nil
}
