package app

import "time"

// DuplicateSettings configure repeated-request linking (并单): the duplicates section of the
// gateway's configuration.
type DuplicateSettings struct {
	Enabled bool `koanf:"enabled"`
	// Window: an earlier case of the same citizen received within it can be the original.
	Window time.Duration `koanf:"window" validate:"gt=0"`
	// Threshold of character-bigram similarity (0..1) above which texts are the same request.
	Threshold float64 `koanf:"threshold" validate:"gt=0,lte=1"`
	// ForwardAs is the event the case system gets for a repeated request: case.duplicate (it is
	// merged into the original) or case.created (forwarded as a case of its own, still linked).
	ForwardAs string `koanf:"forward_as" validate:"oneof=case.duplicate case.created"`
}

// ConversationSettings tune how citizens' messages on WeChat, SMS and Weibo are understood: the
// conversation section of the gateway's configuration.
type ConversationSettings struct {
	// Window: a message within this time of the citizen's open case joins it as a supplement.
	Window time.Duration `koanf:"window" validate:"gte=0"`
	// NewMatterPrefixes start a message that is a new matter, never a supplement.
	NewMatterPrefixes []string `koanf:"new_matter_prefixes"`
	// QueryKeywords start a status query.
	QueryKeywords []string `koanf:"query_keywords" validate:"min=1,dive,required"`
	// QueryLimit status queries per citizen per QueryPeriod.
	QueryLimit  int           `koanf:"query_limit" validate:"gt=0"`
	QueryPeriod time.Duration `koanf:"query_period" validate:"gt=0"`
	// QueryFailLimit failed look-ups of one case number (by anyone), or by one sender (of any
	// case number), within QueryFailWindow lock that case number or sender out of look-ups by
	// number and query code for QueryLockout. Counted in the store, shared by every replica.
	QueryFailLimit  int           `koanf:"query_fail_limit" validate:"gt=0"`
	QueryFailWindow time.Duration `koanf:"query_fail_window" validate:"gt=0"`
	QueryLockout    time.Duration `koanf:"query_lockout" validate:"gt=0"`
	// OptOutWords and OptInWords stop and resume SMS notifications (the whole message, any case).
	OptOutWords []string `koanf:"opt_out_words"`
	OptInWords  []string `koanf:"opt_in_words"`
	// LocationTTL: how long a reported position (WeChat LOCATION event) is attached to new cases.
	LocationTTL time.Duration `koanf:"location_ttl" validate:"gte=0"`
}
