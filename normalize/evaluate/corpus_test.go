package evaluate

import (
	"os"
	"testing"
)

// corpusFiles are the training corpus, in the order `go generate ./configs` trains on them.
var corpusFiles = []string{"../learn/corpus/train.jsonl", "../learn/corpus/dev.jsonl"}

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
