package open311

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
)

// Limits of a POST requests body beyond the spec's own (description up to 4,000 characters):
// bounds on what one request can make the gateway store.
const (
	MaxDescription     = 4000
	maxFields          = 200
	maxAttributes      = 50
	maxAttributeValues = 20
	maxValueChars      = 1000
	maxNameChars       = 100
	maxShortChars      = 256
	maxURLBytes        = 2048
)

// Request is a POST requests body, parsed and checked on its own (before the service it names
// is looked up).
type Request struct {
	APIKey         string
	JurisdictionID string
	ServiceCode    string
	// Lat and Long are WGS84, both set or both nil.
	Lat, Long     *float64
	AddressString string
	AddressID     string
	Email         string
	DeviceID      string
	AccountID     string
	FirstName     string
	LastName      string
	Phone         string
	Description   string
	MediaURL      string
	// Attributes are the attribute[code] fields; a multi-value list ("attribute[code][]") may
	// hold several values.
	Attributes map[string][]string
	// Multi records which attributes came in the multi-value form.
	Multi map[string]bool
}

// singleFields are the spec's fields that take one value each.
var singleFields = map[string]func(*Request) *string{
	"api_key":         func(r *Request) *string { return &r.APIKey },
	"jurisdiction_id": func(r *Request) *string { return &r.JurisdictionID },
	"service_code":    func(r *Request) *string { return &r.ServiceCode },
	"address_string":  func(r *Request) *string { return &r.AddressString },
	"address_id":      func(r *Request) *string { return &r.AddressID },
	"email":           func(r *Request) *string { return &r.Email },
	"device_id":       func(r *Request) *string { return &r.DeviceID },
	"account_id":      func(r *Request) *string { return &r.AccountID },
	"first_name":      func(r *Request) *string { return &r.FirstName },
	"last_name":       func(r *Request) *string { return &r.LastName },
	"phone":           func(r *Request) *string { return &r.Phone },
	"description":     func(r *Request) *string { return &r.Description },
	"media_url":       func(r *Request) *string { return &r.MediaURL },
	"lat":             nil,
	"long":            nil,
}

// fieldLimits bound the free-text fields, in characters.
var fieldLimits = map[string]int{
	"jurisdiction_id": maxShortChars, "service_code": 64, "address_string": 500, "address_id": maxShortChars,
	"email": 254, "device_id": maxShortChars, "account_id": maxShortChars, "first_name": maxNameChars,
	"last_name": maxNameChars, "phone": 64, "description": MaxDescription,
}

// ParseForm parses an application/x-www-form-urlencoded POST requests body. It checks what can
// be checked without knowing the service: syntax, UTF-8, fields given twice, lengths, the
// location, the media URL and the shape of every attribute field. The api_key is returned
// unchecked. Every problem is listed, each named by its field.
func ParseForm(body []byte) (Request, []intake.FieldError) {
	var (
		r    = Request{Attributes: map[string][]string{}, Multi: map[string]bool{}}
		errs []intake.FieldError
	)
	add := func(field, reason string) { errs = append(errs, intake.FieldError{Field: field, Reason: reason}) }
	if !utf8.Valid(body) {
		add("body", "is not valid UTF-8")
		return r, errs
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		add("body", "is not a valid application/x-www-form-urlencoded form")
		return r, errs
	}
	if len(values) > maxFields {
		add("body", fmt.Sprintf("has %d fields; the limit is %d", len(values), maxFields))
		return r, errs
	}
	var lat, long string
	for key, vs := range values {
		if !utf8.ValidString(key) || !allValidUTF8(vs) {
			add(safeName(key), "is not valid UTF-8")
			continue
		}
		if strings.HasPrefix(key, "attribute[") {
			code, multi, ok := attributeKey(key)
			if !ok {
				add(safeName(key), "is a malformed attribute field; write attribute[code] or attribute[code][]")
				continue
			}
			if prev, seen := r.Multi[code]; seen && prev != multi {
				add("attribute["+code+"]", "is given both as a single value and as a list")
				continue
			}
			if !multi && len(vs) > 1 {
				add("attribute["+code+"]", "is given more than once")
				continue
			}
			if len(vs) > maxAttributeValues {
				add("attribute["+code+"]", fmt.Sprintf("has %d values; the limit is %d", len(vs), maxAttributeValues))
				continue
			}
			for _, v := range vs {
				if n := utf8.RuneCountInString(v); n > maxValueChars {
					add("attribute["+code+"]", fmt.Sprintf("is %d characters long; the limit is %d", n, maxValueChars))
				}
			}
			r.Multi[code] = multi
			r.Attributes[code] = append(r.Attributes[code], vs...)
			continue
		}
		set, known := singleFields[key]
		if !known {
			// Clients send fields of their own (FixMyStreet adds several); the spec's fields are
			// all that is read.
			continue
		}
		if len(vs) > 1 {
			add(key, "is given more than once")
			continue
		}
		v := vs[0]
		if limit, ok := fieldLimits[key]; ok {
			if n := utf8.RuneCountInString(v); n > limit {
				add(key, fmt.Sprintf("is %d characters long; the limit is %d", n, limit))
				continue
			}
		}
		switch key {
		case "lat":
			lat = v
		case "long":
			long = v
		default:
			*set(&r) = strings.TrimSpace(v)
		}
	}
	if len(r.Attributes) > maxAttributes {
		add("attribute", fmt.Sprintf("%d attributes; the limit is %d", len(r.Attributes), maxAttributes))
	}
	if r.ServiceCode == "" {
		add("service_code", "is required")
	}
	errs = append(errs, r.parseLocation(strings.TrimSpace(lat), strings.TrimSpace(long))...)
	if r.MediaURL != "" {
		if reason := checkMediaURL(r.MediaURL); reason != "" {
			add("media_url", reason)
		}
	}
	if r.Email != "" && !strings.Contains(r.Email, "@") {
		add("email", "is not an email address")
	}
	sortFieldErrors(errs)
	return r, errs
}

func (r *Request) parseLocation(lat, long string) []intake.FieldError {
	var errs []intake.FieldError
	switch {
	case lat == "" && long == "":
	case lat == "" || long == "":
		errs = append(errs, intake.FieldError{Field: "lat", Reason: "lat and long must be given together"})
	default:
		la, errLa := coordinate(lat, 90)
		lo, errLo := coordinate(long, 180)
		if errLa != "" {
			errs = append(errs, intake.FieldError{Field: "lat", Reason: errLa})
		}
		if errLo != "" {
			errs = append(errs, intake.FieldError{Field: "long", Reason: errLo})
		}
		if errLa == "" && errLo == "" {
			r.Lat, r.Long = &la, &lo
		}
	}
	if len(errs) == 0 && r.Lat == nil && r.AddressString == "" && r.AddressID == "" {
		errs = append(errs, intake.FieldError{Field: "location", Reason: "is required: give lat and long, address_string or address_id"})
	}
	return errs
}

func coordinate(s string, limit float64) (float64, string) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, "is not a number"
	}
	if f < -limit || f > limit {
		return 0, fmt.Sprintf("must lie between -%g and %g (WGS84)", limit, limit)
	}
	return f, ""
}

func checkMediaURL(raw string) string {
	if len(raw) > maxURLBytes {
		return fmt.Sprintf("is %d bytes long; the limit is %d", len(raw), maxURLBytes)
	}
	if intake.ForeignScheme(raw) {
		return intake.ReasonURLScheme
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an absolute http or https URL"
	}
	return ""
}

// attributeKey splits "attribute[code]" and "attribute[code][]".
func attributeKey(key string) (code string, multi bool, ok bool) {
	rest, found := strings.CutPrefix(key, "attribute[")
	if !found {
		return "", false, false
	}
	if r, m := strings.CutSuffix(rest, "][]"); m {
		rest, multi = r, true
	} else if r, m := strings.CutSuffix(rest, "]"); m {
		rest = r
	} else {
		return "", false, false
	}
	if !codePattern.MatchString(rest) {
		return "", false, false
	}
	return rest, multi, true
}

func allValidUTF8(vs []string) bool {
	for _, v := range vs {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// Unreadable reports whether errs say the body could not be read as a form at all (then no
// field, the api_key included, was read).
func Unreadable(errs []intake.FieldError) bool {
	return len(errs) > 0 && errs[0].Field == "body"
}

// safeName is a field name fit to repeat in an error: at most 64 bytes of valid UTF-8.
func safeName(key string) string {
	if key == "" {
		return "(a field without a name)"
	}
	key = strings.ToValidUTF8(key, "?")
	if len(key) > 64 {
		cut := 64
		for cut > 0 && !utf8.RuneStart(key[cut]) {
			cut--
		}
		key = key[:cut] + "…"
	}
	return key
}

func sortFieldErrors(errs []intake.FieldError) {
	for i := 1; i < len(errs); i++ {
		for j := i; j > 0 && errs[j].Field+errs[j].Reason < errs[j-1].Field+errs[j-1].Reason; j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
}

// withoutAPIKey returns the form body without its api_key fields, byte for byte otherwise, so
// that the payload kept for audit holds no credential.
func withoutAPIKey(body []byte) []byte {
	parts := strings.Split(string(body), "&")
	kept := parts[:0]
	for _, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if name, err := url.QueryUnescape(k); err == nil && name == "api_key" {
			continue
		}
		kept = append(kept, p)
	}
	return []byte(strings.Join(kept, "&"))
}
