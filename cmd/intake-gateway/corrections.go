package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	intake "github.com/hotline12345/intake-gateway"
)

// correctionLine is one labelled example in the corpus format that `classify train --corpus`
// and `classify --eval` read.
type correctionLine struct {
	ID          string   `json:"id"`
	Channel     string   `json:"channel"`
	Text        string   `json:"text"`
	Category    string   `json:"category"`
	CategoryAlt []string `json:"category_alt"`
	RequestType string   `json:"request_type"`
	Emergency   *string  `json:"emergency"`
	OutOfScope  bool     `json:"out_of_scope"`
	Referral    *string  `json:"referral"`
	Notes       string   `json:"notes"`
}

// correctionsPage is how many corrections are read at a time.
const correctionsPage = 500

func exportCorrectionsCommand() *cobra.Command {
	var path, outFile string
	cmd := &cobra.Command{
		Use:   "export-corrections [--out FILE.jsonl]",
		Short: "Write operators' classification corrections as labelled training data (JSONL)",
		Long: `classify export-corrections writes every case an operator corrected in the console as one
labelled example (id, channel, text, category, request_type, emergency, out_of_scope, notes), in
the format classify train --corpus and classify --eval read. A case corrected more than once is
written once, with its latest correction. Without --out the lines go to stdout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var buf bytes.Buffer
			n := 0
			err := withStore(cmd.Context(), path, func(ctx context.Context, st intake.Store) error {
				review, ok := st.(intake.Review)
				if !ok {
					return errors.New("this store keeps no corrections")
				}
				var err error
				n, err = exportCorrections(ctx, review, &buf)
				return err
			})
			if err != nil {
				return err
			}
			if outFile == "" {
				_, err := cmd.OutOrStdout().Write(buf.Bytes())
				return err
			}
			if err := writeFileAtomic(outFile, buf.Bytes()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d corrected cases written to %s\n", n, outFile)
			return nil
		},
	}
	addConfigFlag(cmd, &path)
	cmd.Flags().StringVar(&outFile, "out", "", "file to write (default stdout)")
	return cmd
}

// exportCorrections writes the latest correction of every corrected case, in the order the
// cases were first corrected, and returns how many it wrote.
func exportCorrections(ctx context.Context, st intake.Review, buf *bytes.Buffer) (int, error) {
	var (
		order  []string
		latest = map[string]intake.Correction{}
		after  int64
	)
	for {
		page, err := st.ListCorrections(ctx, after, correctionsPage)
		if err != nil {
			return 0, err
		}
		for _, k := range page {
			if _, seen := latest[k.CaseID]; !seen {
				order = append(order, k.CaseID)
			}
			latest[k.CaseID] = k
			after = k.ID
		}
		if len(page) < correctionsPage {
			break
		}
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	for _, id := range order {
		k := latest[id]
		line := correctionLine{ID: "correction-" + strconv.FormatInt(k.ID, 10), Channel: string(k.Channel), Text: k.Text,
			Category: k.Category, CategoryAlt: []string{}, RequestType: string(k.RequestType), OutOfScope: k.OutOfScope, Notes: k.Note}
		if k.Emergency != "" {
			kind := string(k.Emergency)
			line.Emergency = &kind
		}
		if err := enc.Encode(line); err != nil {
			return 0, fmt.Errorf("encode correction %d: %w", k.ID, err)
		}
	}
	return len(order), nil
}
