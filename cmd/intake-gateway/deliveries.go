package main

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/internal/metrics"
)

func deliveriesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deliveries",
		Short: "Inspect and replay deliveries to the case systems",
	}
	var path string
	list := &cobra.Command{
		Use:   "list",
		Short: "List dead deliveries (those that gave up and wait for a replay)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), path, func(ctx context.Context, st intake.Store) error {
				n := 0
				err := eachDead(ctx, st, func(d intake.Delivery) error {
					n++
					fmt.Fprintf(cmd.OutOrStdout(), "%s  case %s  %s → %s  %d attempts  %s\n", d.ID, d.CaseID, d.Event, d.Target, d.Attempts, d.LastError)
					return nil
				})
				fmt.Fprintf(cmd.OutOrStdout(), "%d dead deliveries\n", n)
				return err
			})
		},
	}
	var allDead bool
	retry := &cobra.Command{
		Use:   "retry [DELIVERY_ID ...] | --all-dead",
		Short: "Queue dead deliveries again, oldest first (a running gateway delivers them)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if allDead == (len(args) > 0) {
				return fmt.Errorf("give delivery ids or --all-dead, not both and not neither")
			}
			return withStore(cmd.Context(), path, func(ctx context.Context, st intake.Store) error {
				ids := args
				if allDead {
					var dead []intake.Delivery
					if err := eachDead(ctx, st, func(d intake.Delivery) error { dead = append(dead, d); return nil }); err != nil {
						return err
					}
					// Oldest first, so that a case's earlier events are queued before its later ones.
					for i := len(dead) - 1; i >= 0; i-- {
						ids = append(ids, dead[i].ID)
					}
				}
				auditor, _ := st.(intake.Operators)
				actor := cliActor()
				for _, id := range ids {
					d, err := st.RetryDelivery(ctx, id)
					if err != nil {
						return fmt.Errorf("retry %s: %w", id, err)
					}
					if auditor != nil {
						e := intake.AuditEntry{Actor: actor, ActorKind: intake.ActorCLI, Action: intake.AuditDeliveryRetry,
							Target: "delivery:" + d.ID, Detail: "case " + d.CaseID + " " + d.Event + " → " + d.Target}
						if err := auditor.AppendAudit(ctx, e); err != nil {
							return fmt.Errorf("retry %s: queued again, but the audit entry was not written: %w", id, err)
						}
					}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d deliveries queued again\n", len(ids))
				return nil
			})
		},
	}
	retry.Flags().BoolVar(&allDead, "all-dead", false, "replay every dead delivery")
	var stuckFor time.Duration
	requeue := &cobra.Command{
		Use:   "requeue [--stuck-for DURATION]",
		Short: "Give a fresh job to queued deliveries whose job is gone or stuck",
		Long: `Finds the deliveries that are queued but will not be worked: their job finished without
delivering them (completed, discarded or cancelled), or it has been running for longer than
--stuck-for, which means the process running it died (kill -9, a lost host). Each gets a fresh job,
and a stuck job is cancelled. A running gateway then delivers them; the case system may see the
same Idempotency-Key twice, which it treats as one case.

The gateway rescues stuck jobs by itself after the same time; this is for an operator who does not
want to wait, or for jobs lost some other way. --stuck-for defaults to that time: the forwarding
timeout plus the job's bookkeeping and a margin. A shorter one can requeue deliveries that are
still being worked, which only costs a duplicate request.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStoreConfig(cmd.Context(), path, func(ctx context.Context, cfg *config.Config, st intake.Store) error {
				horizon := stuckFor
				if horizon <= 0 {
					horizon = rescueAfter(cfg)
				}
				ds, err := st.RequeueStranded(ctx, horizon)
				if err != nil {
					return fmt.Errorf("requeue: %w", err)
				}
				for _, d := range ds {
					fmt.Fprintf(cmd.OutOrStdout(), "%s  case %s  %s → %s  %d attempts\n", d.ID, d.CaseID, d.Event, d.Target, d.Attempts)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d deliveries queued again (jobs stuck for more than %s counted as lost)\n", len(ds), horizon)
				return nil
			})
		},
	}
	requeue.Flags().DurationVar(&stuckFor, "stuck-for", 0, "a job running longer than this was left by a dead process (default: forwarding timeout + bookkeeping + margin)")
	for _, c := range []*cobra.Command{list, retry, requeue} {
		addConfigFlag(c, &path)
		cmd.AddCommand(c)
	}
	return cmd
}

// eachDead visits every dead delivery, most recently failed first.
func eachDead(ctx context.Context, st intake.Store, fn func(intake.Delivery) error) error {
	cursor := ""
	for {
		page, err := st.ListDeliveries(ctx, intake.DeliveryFilter{State: intake.DeliveryDead, Limit: 500, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, d := range page.Deliveries {
			if err := fn(d); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		cursor = page.NextCursor
	}
}

// withStore opens the configured store (migrated) for an operator command.
func withStore(parent context.Context, path string, fn func(context.Context, intake.Store) error) error {
	return withStoreConfig(parent, path, func(ctx context.Context, _ *config.Config, st intake.Store) error { return fn(ctx, st) })
}

// withStoreConfig is withStore for a command that also needs the configuration.
func withStoreConfig(parent context.Context, path string, fn func(context.Context, *config.Config, intake.Store) error) error {
	cfg, _, err := loadConfig(path)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(parent, 10*time.Minute)
	defer cancel()
	st, _, err := openStore(ctx, cfg, newLogger(cfg), metrics.New(prometheus.NewRegistry()), nil)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	return fn(ctx, cfg, st)
}
