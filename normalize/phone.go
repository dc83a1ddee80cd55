package normalize

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is the region assumed for numbers written without a country code.
const DefaultRegion = "CN"

// Phone is a normalized phone number. When the input could not be understood as a valid number,
// E164 is empty and Raw keeps what was given: a malformed number must never cost a case.
type Phone struct {
	E164  string
	Raw   string
	Valid bool
}

// PhoneNumber parses raw in region (DefaultRegion when empty) and returns it in E.164.
// Full-width digits and the usual separators are accepted.
func PhoneNumber(raw, region string) Phone {
	raw = strings.TrimSpace(CleanText(raw))
	if raw == "" {
		return Phone{}
	}
	if region == "" {
		region = DefaultRegion
	}
	num, err := phonenumbers.Parse(raw, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return Phone{Raw: raw}
	}
	return Phone{E164: phonenumbers.Format(num, phonenumbers.E164), Raw: raw, Valid: true}
}
