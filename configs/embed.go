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
)

// Deadlines (normalize.LoadCalendar, normalize.ParseDeadlineRules).
var (
	//go:embed holidays.yaml
	Holidays []byte
	//go:embed deadlines.yaml
	Deadlines []byte
)

// Citizen-facing reply texts (channels/replies).
//
//go:embed messages.yaml
var Messages []byte
