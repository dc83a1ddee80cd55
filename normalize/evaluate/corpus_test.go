package evaluate

import (
	"os"
	"testing"
)

// corpusFiles are the training corpus, in the order `go generate ./configs` trains on them; the
// last is the project-written extra.jsonl.
var corpusFiles = []string{"../learn/corpus/train.jsonl", "../learn/corpus/dev.jsonl", "../learn/corpus/extra.jsonl"}

func corpus(t testing.TB) []Example {
	t.Helper()
	var all []Example
	for _, f := range corpusFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ex, err := ParseJSONL(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		all = append(all, ex...)
	}
	return all
}

// extraItems is the number of examples in the last corpus file (extra.jsonl).
func extraItems(t testing.TB) int {
	t.Helper()
	data, err := os.ReadFile(corpusFiles[len(corpusFiles)-1])
	if err != nil {
		t.Fatal(err)
	}
	ex, err := ParseJSONL(data)
	if err != nil {
		t.Fatal(err)
	}
	return len(ex)
}
