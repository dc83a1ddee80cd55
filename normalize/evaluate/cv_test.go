package evaluate

import (
	"os"
	"testing"

	"github.com/hotline12345/intake-gateway/normalize/learn"
)

func corpus(t testing.TB) []Example {
	t.Helper()
	var all []Example
	for _, f := range []string{"../learn/corpus/train.jsonl", "../learn/corpus/dev.jsonl"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ex, err := ParseJSONL(data)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ex...)
	}
	return all
}

func TestCrossValidationExp(t *testing.T) {
	if os.Getenv("EXP") == "" {
		t.Skip()
	}
	rep, err := CrossValidate(rulesOnly(t), corpus(t), 5, learn.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	rep.Print(os.Stdout)
}
