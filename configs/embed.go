// Package configs embeds the default rule files of this directory so that the binary has
// built-in defaults and tests need no file access. The files on disk are the source of truth
// for operators: a running gateway reads (and on SIGHUP re-reads) the copies named in its
// configuration and uses these only when none are configured.
package configs

import _ "embed"

// Classification rules (normalize.Sources).
var (
	//go:embed taxonomy.yaml
	Taxonomy []byte
	//go:embed emergency.yaml
	Emergency []byte
	//go:embed out_of_scope.yaml
	OutOfScope []byte
	//go:embed gazetteer.yaml
	Gazetteer []byte
	//go:embed referrals.yaml
	Referrals []byte
)

// The learned model combined with the rules (normalize.Sources.Model). It is generated, not
// edited: `go generate ./configs` (or `make generate`) trains it from the project's corpus in
// normalize/learn/corpus with the rule files above, deterministically, so the same corpus and
// rules give the same bytes. A hotline replaces it with its own (classifier.model_file).
// extra.jsonl, the project-written data, is trained on but not calibrated on: the thresholds'
// false-alarm rates are shares of the independent train.jsonl and dev.jsonl.
//
//go:generate go run ../cmd/intake-gateway classify train --builtin-rules --corpus ../normalize/learn/corpus/train.jsonl --corpus ../normalize/learn/corpus/dev.jsonl --train-also ../normalize/learn/corpus/extra.jsonl --out classifier.model
//go:embed classifier.model
var Model []byte

// Deadlines (normalize.LoadCalendar, normalize.ParseDeadlineRules).
var (
	//go:embed holidays.yaml
	Holidays []byte
	//go:embed deadlines.yaml
	Deadlines []byte
)

// Citizen-facing reply texts (internal/replies).
//
//go:embed messages.yaml
var Messages []byte

// What the Open311 service list adds to the taxonomy's categories (open311.ParseCatalog).
//
//go:embed open311.yaml
var Open311 []byte
