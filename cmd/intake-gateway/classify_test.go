package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	intake "github.com/hotline12345/intake-gateway"
)

// trainingCorpus writes a small labelled corpus in which a made-up word (啵啵啵) means education:
// nothing in the rules or the built-in model could know it, so a classification that gets it
// right comes from a model trained on this corpus.
func trainingCorpus(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	n := 0
	line := func(text, cat, rt, extra string) {
		n++
		fmt.Fprintf(&b, `{"id":"t%d","channel":"sms","text":%q,"category":%q,"category_alt":[],"request_type":%q%s}`+"\n", n, text, cat, rt, extra)
	}
	for _, place := range []string{"东区", "西区", "南区", "北区", "新城", "老城", "河东", "河西"} {
		line(place+"啵啵啵的事想问一下", "education", "consult", `,"emergency":null,"out_of_scope":false`)
		line(place+"停水三天了什么时候来水", "utilities", "consult", `,"emergency":null,"out_of_scope":false`)
		line(place+"有人躺在地上不动了快来人", "health", "help", `,"emergency":"medical","out_of_scope":false`)
		line(place+"法院判决不公请市长改判", "other", "complaint", `,"emergency":null,"out_of_scope":true,"referral":"人民法院/12368"`)
	}
	path := filepath.Join(t.TempDir(), "corpus.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestClassifyTrainWritesTheSameModelTwice(t *testing.T) {
	corpus := trainingCorpus(t)
	dir := t.TempDir()
	var models [][]byte
	for _, name := range []string{"a.model", "b.model"} {
		out, err := run(t, "classify", "train", "--builtin-rules", "--corpus", corpus, "--out", filepath.Join(dir, name))
		if err != nil || !strings.Contains(out, "32 examples") || !strings.Contains(out, "emergency ") {
			t.Fatalf("train: %v\n%s", err, out)
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, data)
	}
	if !bytes.Equal(models[0], models[1]) {
		t.Fatal("the same corpus and seed gave different model files")
	}
	out, err := run(t, "classify", "train", "--builtin-rules", "--corpus", corpus, "--out", filepath.Join(dir, "c.model"), "--seed", "99")
	if err != nil {
		t.Fatalf("train with another seed: %v\n%s", err, out)
	}
	if other, _ := os.ReadFile(filepath.Join(dir, "c.model")); bytes.Equal(other, models[0]) {
		t.Error("another seed gave the same model file")
	}
	if _, err := run(t, "classify", "train", "--corpus", corpus); err == nil {
		t.Error("train without --out accepted")
	}
}

// --train-also files are trained on but take no part in choosing the thresholds: the emergency
// head's calibration counts the --corpus file's 24 negatives, not the 48 the two files hold.
func TestClassifyTrainAlsoIsNotCalibratedOn(t *testing.T) {
	corpus, also := trainingCorpus(t), trainingCorpus(t)
	dir := t.TempDir()
	for _, tt := range []struct {
		args      []string
		negatives string
	}{
		{[]string{"--corpus", corpus, "--train-also", also}, "/24 false alarms"},
		{[]string{"--corpus", corpus, "--corpus", also}, "/48 false alarms"},
	} {
		args := append([]string{"classify", "train", "--builtin-rules", "--out", filepath.Join(dir, "m.model")}, tt.args...)
		out, err := run(t, args...)
		if err != nil || !strings.Contains(out, "64 examples") {
			t.Fatalf("train %v: %v\n%s", tt.args, err, out)
		}
		var emergency string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "emergency ") {
				emergency = l
			}
		}
		if !strings.Contains(emergency, tt.negatives) {
			t.Errorf("train %v: emergency head %q, want %s", tt.args, emergency, tt.negatives)
		}
	}
}

// A hotline's own model (classifier.model_file) replaces the built-in one at start and on
// SIGHUP; a model file that does not load leaves the running model in place.
func TestModelFileIsLoadedAndReloaded(t *testing.T) {
	corpus := trainingCorpus(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "hotline.model")
	if out, err := run(t, "classify", "train", "--builtin-rules", "--corpus", corpus, "--out", model); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	cfgPath := filepath.Join(dir, "g.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("database: { sqlite_path: %q }\nclassifier: { model_file: %q }\nlog: { level: error }\n",
		filepath.Join(dir, "r.db"), model)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "classify", "--config", cfgPath, "中区啵啵啵的事想问一下")
	if err != nil || !strings.Contains(out, "category      education") {
		t.Fatalf("classify with the hotline's model: %v\n%s", err, out)
	}
	out, err = run(t, "classify", "--config", cfgPath, "--rules-only", "中区啵啵啵的事想问一下")
	if err != nil || strings.Contains(out, "category      education") {
		t.Fatalf("--rules-only still used the model: %v\n%s", err, out)
	}

	cfg, _, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	a, err := assemble(context.Background(), cfg, newLogger(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	category := func(ext string) string {
		r, err := a.service.Submit(context.Background(), intake.Submission{Channel: intake.ChannelREST, ChannelID: "rest:t", ExternalID: ext, Text: "中区啵啵啵的事想问一下"})
		if err != nil {
			t.Fatal(err)
		}
		return r.Case.Classification.Category
	}
	if got := category("1"); got != "education" {
		t.Fatalf("the gateway does not use the configured model: %s", got)
	}
	good, _ := os.ReadFile(model)
	if err := os.WriteFile(model, good[:len(good)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(); err == nil || !strings.Contains(err.Error(), "model") {
		t.Fatalf("a model file cut in half must be refused: %v", err)
	}
	if got := category("2"); got != "education" {
		t.Fatalf("after a failed reload the previous model must stay: %s", got)
	}
	if err := os.Remove(model); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(); err == nil || !strings.Contains(err.Error(), "classifier.model_file") {
		t.Fatalf("a missing model file must be refused with the config key: %v", err)
	}
}

// classify --corpus cross-validates; --eval scores a file; both print per-class figures.
func TestClassifyCrossValidation(t *testing.T) {
	corpus := trainingCorpus(t)
	out, err := run(t, "classify", "--corpus", corpus, "--cv", "2")
	if err != nil || !strings.Contains(out, "2-fold cross-validation") || !strings.Contains(out, "out-of-scope recall") ||
		!strings.Contains(out, "precision") {
		t.Fatalf("cross-validation: %v\n%s", err, out)
	}
	if _, err := run(t, "classify", "--corpus", corpus, "--cv", "1"); err == nil {
		t.Error("one fold accepted")
	}
	// --train-also trains every fold on a second file and scores only the corpus.
	out, err = run(t, "classify", "--corpus", corpus, "--train-also", trainingCorpus(t), "--cv", "2")
	if err != nil || !strings.Contains(out, "every fold also trained on") || !strings.Contains(out, "examples                 32\n") {
		t.Fatalf("cross-validation with --train-also: %v\n%s", err, out)
	}
	if _, err := run(t, "classify", "--train-also", corpus, "some text"); err == nil {
		t.Error("--train-also without --corpus accepted")
	}
	if _, err := run(t, "classify", "--corpus", corpus, "--train-also", filepath.Join(t.TempDir(), "missing.jsonl")); err == nil {
		t.Error("a missing --train-also file accepted")
	}
	if _, err := run(t, "classify", "--corpus", corpus, "some text"); err == nil {
		t.Error("text and --corpus together accepted")
	}
	// A known training option is taken; a misspelt one is refused rather than silently ignored.
	if out, err := run(t, "classify", "--corpus", corpus, "--cv", "2", "--train-options", `{"epochs":3}`); err != nil ||
		!strings.Contains(out, "2-fold cross-validation") {
		t.Fatalf("--train-options epochs: %v\n%s", err, out)
	}
	if _, err := run(t, "classify", "--corpus", corpus, "--cv", "2", "--train-options", `{"epoch":3}`); err == nil ||
		!strings.Contains(err.Error(), `unknown field "epoch"`) {
		t.Errorf("a misspelt training option: %v, want it refused by name", err)
	}
}

// classifier.review_below reaches the cases the gateway stores: 0 never asks for a review, a
// threshold above every confidence always does, and the stored case carries the flag.
func TestReviewBelowIsConfigured(t *testing.T) {
	for _, tt := range []struct {
		below string
		want  bool
	}{{"0", false}, {"0.999", true}} {
		dir := t.TempDir()
		cfgPath := filepath.Join(dir, "g.yaml")
		if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("database: { sqlite_path: %q }\nclassifier: { review_below: %s }\nlog: { level: error }\n",
			filepath.Join(dir, "r.db"), tt.below)), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, _, err := loadConfig(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		a, err := assemble(context.Background(), cfg, newLogger(cfg))
		if err != nil {
			t.Fatal(err)
		}
		r, err := a.service.Submit(context.Background(), intake.Submission{Channel: intake.ChannelREST, ChannelID: "rest:t", ExternalID: "1", Text: "我想在家门口开个小超市，营业执照怎么办"})
		a.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Case.Classification.NeedsReview; got != tt.want {
			t.Errorf("review_below %s: needs_review %v, want %v (confidence %.2f)", tt.below, got, tt.want, r.Case.Classification.Confidence)
		}
		out, err := run(t, "classify", "--config", cfgPath, "我想在家门口开个小超市，营业执照怎么办")
		if err != nil || strings.Contains(out, "needs review  yes") != tt.want {
			t.Errorf("classify with review_below %s: %v\n%s", tt.below, err, out)
		}
	}
}
