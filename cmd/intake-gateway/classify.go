package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/normalize"
	"github.com/hotline12345/intake-gateway/normalize/evaluate"
)

func classifyCommand() *cobra.Command {
	var path, evalFile string
	cmd := &cobra.Command{
		Use:   "classify [TEXT] | --eval FILE.jsonl",
		Short: "Classify a text with its reasons, or evaluate the rules on a labelled corpus",
		Long: `classify TEXT prints the category, request type, emergency, out-of-scope flag and district
the configured rules give TEXT, with every phrase that counted. A phone transcript (lines
starting 坐席：/市民：) is classified on the caller's turns only.

classify --eval FILE.jsonl reads the corpus format (id, text, category, category_alt,
request_type, emergency, …) and prints accuracy for category and request type, emergency recall
and false alarms, out-of-scope recall and a confusion table.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(config.ResolvePath(path), nil)
			if err != nil {
				return err
			}
			rules, err := loadRules(cfg)
			if err != nil {
				return err
			}
			if evalFile != "" {
				if len(args) > 0 {
					return fmt.Errorf("give TEXT or --eval, not both")
				}
				data, err := os.ReadFile(evalFile)
				if err != nil {
					return err
				}
				report, err := evaluate.Evaluate(rules.Classifier, data)
				if err != nil {
					return err
				}
				return report.Print(cmd.OutOrStdout())
			}
			if len(args) == 0 {
				return fmt.Errorf("give TEXT to classify or --eval FILE")
			}
			text := strings.Join(args, " ")
			return rules.Classifier.Classify(normalize.ClassifiableText(text)).Explain(cmd.OutOrStdout())
		},
	}
	addConfigFlag(cmd, &path)
	cmd.Flags().StringVar(&evalFile, "eval", "", "evaluate on a labelled JSONL corpus")
	return cmd
}
