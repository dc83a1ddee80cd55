package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/console"
)

func reportCommand() *cobra.Command {
	var (
		path, from, to string
		asCSV          bool
	)
	cmd := &cobra.Command{
		Use:   "report --from YYYY-MM-DD --to YYYY-MM-DD [--csv]",
		Short: "Print a period's report: volume, channels, top five categories, 办结率, 按时办结率, 满意率",
		Long: `report prints the figures of the cases received from --from to --to (local dates of
case_no.timezone, both included), as the console's report page shows them: the total, cases by
channel, the top five categories with counts and shares, request types, the share resolved
(办结率), resolved by the deadline (按时办结率) and the satisfaction rate (满意率). --csv writes
the same as CSV.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStoreConfig(cmd.Context(), path, func(ctx context.Context, cfg *config.Config, st intake.Store) error {
				loc := cfg.CaseNo.Location()
				start, err := time.ParseInLocation("2006-01-02", from, loc)
				if err != nil {
					return fmt.Errorf("--from must be YYYY-MM-DD: %w", err)
				}
				end, err := time.ParseInLocation("2006-01-02", to, loc)
				if err != nil {
					return fmt.Errorf("--to must be YYYY-MM-DD: %w", err)
				}
				source, ok := st.(console.ReportSource)
				if !ok {
					return errors.New("this store computes no statistics")
				}
				rules, err := loadRules(cfg)
				if err != nil {
					return err
				}
				var categories []console.Category
				for _, c := range rules.Classifier.Rules().Taxonomy.Categories {
					categories = append(categories, console.Category{Code: c.Code, Name: c.Name})
				}
				rep, err := console.BuildReport(ctx, source, start, end, loc, categories)
				if err != nil {
					return err
				}
				if asCSV {
					return rep.WriteCSV(cmd.OutOrStdout())
				}
				return rep.WriteText(cmd.OutOrStdout())
			})
		},
	}
	addConfigFlag(cmd, &path)
	cmd.Flags().StringVar(&from, "from", "", "first day of the period (YYYY-MM-DD, required)")
	cmd.Flags().StringVar(&to, "to", "", "last day of the period (YYYY-MM-DD, required)")
	cmd.Flags().BoolVar(&asCSV, "csv", false, "write CSV instead of text")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}
