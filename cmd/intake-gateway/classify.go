package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/normalize"
	"github.com/hotline12345/intake-gateway/normalize/evaluate"
	"github.com/hotline12345/intake-gateway/normalize/learn"
)

func classifyCommand() *cobra.Command {
	var (
		path, evalFile string
		corpora        []string
		trainAlso      []string
		folds          int
		rulesOnly      bool
		seed           uint64
		optionsJSON    string
	)
	cmd := &cobra.Command{
		Use:   "classify [TEXT] | --eval FILE.jsonl | --corpus FILE.jsonl... [--cv 5]",
		Short: "Classify a text with its reasons, or evaluate the classifier on labelled corpora",
		Long: `classify TEXT prints the category, request type, emergency, out-of-scope flag with its
referral, and district that the configured rules and model give TEXT, with what decided each:
every rule phrase found and the n-grams that weighed most for the model. A phone transcript
(lines starting 坐席：/市民：) is classified on the caller's turns only.

classify --eval FILE.jsonl scores the configured classifier on a labelled corpus (id, text,
category, category_alt, request_type, emergency, out_of_scope, referral): accuracy, per-class
precision and recall, emergency recall and false alarms (overall and on long letters),
out-of-scope recall and false flags, confusion tables and every miss.

classify --corpus FILE.jsonl... cross-validates the combined classifier on the training files:
the examples are split into --cv folds, a model is trained with the configured rules on all but
one fold, and that fold is scored; the report covers every example exactly once. --train-also
FILE.jsonl adds a file to every fold's training without scoring it (what project-written data
adds on the other files, without grading its own items; each fold model's threshold calibration,
itself a cross-validation, holds none of them out either). --rules-only scores the rules without
any model instead.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(config.ResolvePath(path), nil)
			if err != nil {
				return err
			}
			rules, err := loadRules(cfg)
			if err != nil {
				return err
			}
			classifier := rules.Classifier
			if rulesOnly {
				if classifier, err = classifier.WithModel(nil); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if len(trainAlso) > 0 && (len(corpora) == 0 || rulesOnly) {
				return fmt.Errorf("--train-also needs --corpus and a model to train (not --rules-only)")
			}
			if evalFile == "" && len(corpora) == 0 {
				if len(args) == 0 {
					return fmt.Errorf("give TEXT to classify, --eval FILE or --corpus FILE")
				}
				text := strings.Join(args, " ")
				return classifier.Classify(normalize.ClassifiableText(text)).Explain(out)
			}
			if len(args) > 0 {
				return fmt.Errorf("give TEXT or --eval/--corpus, not both")
			}
			if evalFile != "" {
				data, err := os.ReadFile(evalFile)
				if err != nil {
					return err
				}
				report, err := evaluate.Evaluate(classifier, data)
				if err != nil {
					return fmt.Errorf("%s: %w", evalFile, err)
				}
				fmt.Fprintf(out, "== %s (%s)\n", evalFile, describeClassifier(classifier))
				if err := report.Print(out); err != nil {
					return err
				}
			}
			if len(corpora) > 0 {
				examples, err := readCorpora(corpora)
				if err != nil {
					return err
				}
				var report *evaluate.Report
				if rulesOnly {
					report = evaluate.Run(classifier, examples)
					fmt.Fprintf(out, "\n== %s (rules only)\n", strings.Join(corpora, ", "))
				} else {
					opts := learn.DefaultOptions()
					opts.Seed = seed
					if optionsJSON != "" {
						// Fields given replace the defaults; the rest keep them. A false_alarm_rate
						// map replaces the whole default map, so name every thresholded head in it.
						// An unknown key is refused: a misspelt knob would otherwise be ignored and
						// the run would measure the defaults under the knob's name.
						dec := json.NewDecoder(strings.NewReader(optionsJSON))
						dec.DisallowUnknownFields()
						if err := dec.Decode(&opts); err != nil {
							return fmt.Errorf("--train-options: %w", err)
						}
					}
					also, err := readCorpora(trainAlso)
					if err != nil {
						return err
					}
					if report, err = evaluate.CrossValidateWith(classifier, examples, also, folds, opts); err != nil {
						return err
					}
					fmt.Fprintf(out, "\n== %s (rules + model, %d-fold cross-validation", strings.Join(corpora, ", "), folds)
					if len(trainAlso) > 0 {
						fmt.Fprintf(out, "; every fold also trained on %s", strings.Join(trainAlso, ", "))
					}
					fmt.Fprintln(out, ")")
				}
				return report.Print(out)
			}
			return nil
		},
	}
	addConfigFlag(cmd, &path)
	cmd.Flags().StringVar(&evalFile, "eval", "", "score the configured classifier on a labelled JSONL corpus")
	cmd.Flags().StringArrayVar(&corpora, "corpus", nil, "cross-validate on these labelled JSONL files (repeatable)")
	cmd.Flags().StringArrayVar(&trainAlso, "train-also", nil, "with --corpus: also train every fold on this JSONL file, without scoring it (repeatable)")
	cmd.Flags().IntVar(&folds, "cv", 5, "number of cross-validation folds")
	cmd.Flags().BoolVar(&rulesOnly, "rules-only", false, "use the rules without the model")
	cmd.Flags().Uint64Var(&seed, "seed", learn.DefaultOptions().Seed, "seed of the fold split and of training")
	cmd.Flags().StringVar(&optionsJSON, "train-options", "", `with --corpus: training options as JSON over the defaults, to cross-validate a knob (e.g. '{"epochs":30,"l2":0.0002}'; a "false_alarm_rate" map must name both "emergency" and "out_of_scope")`)
	cmd.AddCommand(trainCommand(), exportCorrectionsCommand())
	return cmd
}

func trainCommand() *cobra.Command {
	var (
		path, outFile      string
		corpora, trainAlso []string
		seed               uint64
		builtin            bool
	)
	cmd := &cobra.Command{
		Use:   "train --corpus FILE.jsonl... [--train-also FILE.jsonl...] --out MODEL",
		Short: "Train the classifier's model on labelled corpora",
		Long: `classify train fits the learned model (character n-grams and the rules' findings; one head
each for category, request type, emergency, emergency kind, out-of-scope and referral kind) to
the labelled JSONL files, with the configured rule files (--builtin-rules: the built-in ones),
and writes it to --out. The same corpora, rules and --seed always give the same bytes.

A hotline retrains on its own labelled history (its case system's export, one JSON object per
line with text, category, request_type, emergency, out_of_scope, referral) and points
classifier.model_file at the result; SIGHUP loads it.

The thresholds of the emergency and out-of-scope heads are chosen by cross-validation on the
--corpus files. --train-also files are in every fold's training but never held out, so a
false-alarm rate is a share of the --corpus negatives only: data written to teach the model (hard
look-alikes above all) would otherwise change the mix of negatives the rate is a share of. They
must not repeat --corpus items.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(corpora) == 0 || outFile == "" {
				return fmt.Errorf("give --corpus FILE (one or more) and --out MODEL")
			}
			cfg, err := config.Load(config.ResolvePath(path), nil)
			if err != nil {
				return err
			}
			if builtin {
				cfg.Rules = config.Rules{}
			}
			cfg.Classifier.ModelFile = noModel
			rules, err := loadRules(cfg)
			if err != nil {
				return err
			}
			examples, err := readCorpora(corpora)
			if err != nil {
				return err
			}
			also, err := readCorpora(trainAlso)
			if err != nil {
				return err
			}
			training := make([]normalize.TrainingExample, 0, len(examples)+len(also))
			for _, e := range examples {
				training = append(training, e.Training())
			}
			for _, e := range also {
				t := e.Training()
				t.TrainOnly = true
				training = append(training, t)
			}
			opts := learn.DefaultOptions()
			opts.Seed = seed
			model, err := rules.Classifier.Train(training, opts)
			if err != nil {
				return err
			}
			data := model.Encode()
			if err := writeFileAtomic(outFile, data); err != nil {
				return err
			}
			return describeModel(cmd.OutOrStdout(), outFile, model, len(data))
		},
	}
	addConfigFlag(cmd, &path)
	cmd.Flags().StringArrayVar(&corpora, "corpus", nil, "labelled JSONL file to train on (repeatable)")
	cmd.Flags().StringArrayVar(&trainAlso, "train-also", nil, "labelled JSONL file to train on without choosing thresholds on it (repeatable)")
	cmd.Flags().StringVar(&outFile, "out", "", "model file to write")
	cmd.Flags().Uint64Var(&seed, "seed", learn.DefaultOptions().Seed, "seed of the example order (and of the threshold folds)")
	cmd.Flags().BoolVar(&builtin, "builtin-rules", false, "train with the built-in rule files instead of the configured ones (go generate)")
	return cmd
}

func readCorpora(files []string) ([]evaluate.Example, error) {
	var all []evaluate.Example
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		ex, err := evaluate.ParseJSONL(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		all = append(all, ex...)
	}
	return all, nil
}

// writeFileAtomic writes through a temporary file, so that a gateway reloading at that moment
// reads the old model or the new one, never half of one.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".model-*")
	if err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write model: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	return nil
}

func describeClassifier(c *normalize.Classifier) string {
	if m := c.Model(); m != nil {
		return fmt.Sprintf("rules + model of %d features", m.Features())
	}
	return "rules only"
}

func describeModel(w io.Writer, path string, m *learn.Model, size int) error {
	info := m.Info()
	_, err := fmt.Fprintf(w, "wrote %s: %d examples, %d features, %.2f MB on disk, about %.2f MB in memory\n",
		path, info.Examples, m.Features(), float64(size)/1e6, float64(m.MemoryBytes())/1e6)
	if err != nil {
		return err
	}
	for _, h := range m.Heads() {
		line := fmt.Sprintf("  %-15s %d classes", h.Name, len(h.Classes))
		if c := h.Calibration; c != nil {
			line += fmt.Sprintf(", threshold %.3f (%d-fold: %d/%d found, %d/%d false alarms, target %.1f%%)",
				h.Threshold, c.Folds, c.Found, c.Positives, c.FalseAlarms, c.Negatives, 100*c.TargetFalse)
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}
