package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-playground/validator/v10"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/media"
	"github.com/hotline12345/intake-gateway/normalize"
	"github.com/hotline12345/intake-gateway/store"
)

// IntakeStore is what submitting needs of the case store: storing a case with its jobs, and the
// citizen's recent cases (an earlier one may be the same request, repeated).
type IntakeStore interface {
	CreateCase(ctx context.Context, nc intake.NewCase) (intake.CreateResult, error)
	RecentCases(ctx context.Context, who []intake.CitizenKey, since time.Time, limit int) ([]*intake.Case, error)
}

// IntakeOptions tune the intake (Submit).
type IntakeOptions struct {
	// MaxTextChars is the longest text accepted, in characters.
	MaxTextChars int
	// MaxFutureSkew is how far in the future a channel's timestamp may lie.
	MaxFutureSkew time.Duration
	Normalize     normalize.Options
	// Route names the case system a new case goes to; nil leaves it to the store's default.
	Route func(*intake.Case) string
	// Duplicates links repeated requests of one citizen to the original case.
	Duplicates DuplicateSettings
	// Fetchable says whether an attachment of a channel would be fetched (media.Worker.Admits);
	// the others get no fetch job and stay on the case as they came. Nil: every attachment
	// media.ToFetch names gets a job.
	Fetchable func(channelID string, att intake.Attachment) bool
	// ObserveBuild, when set, is told how long building the case from the submission took
	// (cleaning and classification), for the classification latency metric.
	ObserveBuild func(time.Duration)
}

// maxPhoneBytes is the longest phone number kept as given (intake.Citizen.PhoneRaw).
const maxPhoneBytes = 64

// maxCandidates bounds how many of a citizen's recent cases are compared with a new one.
const maxCandidates = 20

// Observer is told about every case created and every retry recognised; metrics hang off it.
type Observer interface {
	CaseCreated(c *intake.Case)
	CaseReplayed(c *intake.Case)
}

// Intake turns a channel's submission into a durably stored case: it normalizes the
// submission, gives the case its id and query code, validates the record and stores it with its
// forwarding job. It is the one implementation of intake.Submitter that every surface calls.
type Intake struct {
	store    IntakeStore
	clock    intake.Clock
	opts     IntakeOptions
	validate *validator.Validate
	observer Observer
	// norm holds the classification rules and calendar; a reload swaps it whole.
	norm atomic.Pointer[normalize.Options]
}

// NewIntake builds the intake. observer may be nil.
func NewIntake(st IntakeStore, clock intake.Clock, opts IntakeOptions, observer Observer) *Intake {
	if clock == nil {
		clock = intake.SystemClock
	}
	if opts.MaxTextChars <= 0 {
		opts.MaxTextChars = 10000
	}
	s := &Intake{store: st, clock: clock, opts: opts, validate: NewValidator(), observer: observer}
	norm := opts.Normalize
	s.norm.Store(&norm)
	return s
}

// SetRules swaps the classification rules, calendar and deadlines (config reload). Submissions
// in flight finish with the rules they started with.
func (s *Intake) SetRules(o normalize.Options) { s.norm.Store(&o) }

// NewValidator returns a validator that names fields by their JSON names.
func NewValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		if name == "" {
			return f.Name
		}
		return name
	})
	// The library checks these with regular expressions, which cost more than the rest of a
	// submission's validation together; these plain checks accept exactly the same values.
	for tag, fn := range map[string]validator.Func{
		"uuid":      func(fl validator.FieldLevel) bool { return store.IsUUID(fl.Field().String()) },
		"e164":      func(fl validator.FieldLevel) bool { return isE164(fl.Field().String()) },
		"numeric":   func(fl validator.FieldLevel) bool { return isDigits(fl.Field().String()) },
		"latitude":  func(fl validator.FieldLevel) bool { return inRange(fl, 90) },
		"longitude": func(fl validator.FieldLevel) bool { return inRange(fl, 180) },
	} {
		if err := v.RegisterValidation(tag, fn); err != nil {
			panic(fmt.Sprintf("register %s validation: %v", tag, err))
		}
	}
	return v
}

// isE164 accepts "+" and 2 to 15 digits, the first not zero.
func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	return isDigits(s[1:])
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func inRange(fl validator.FieldLevel, limit float64) bool {
	f := fl.Field()
	if !f.CanFloat() {
		return false
	}
	v := f.Float()
	return v >= -limit && v <= limit
}

var _ intake.Submitter = (*Intake)(nil)

// toFetch lists the attachments that get a fetch job: those media.ToFetch names, less those
// the fetch policy would refuse anyway.
func (s *Intake) toFetch(c *intake.Case) []int {
	idx := media.ToFetch(c.Channel, c.Attachments)
	if s.opts.Fetchable == nil {
		return idx
	}
	out := idx[:0]
	for _, i := range idx {
		if s.opts.Fetchable(c.ChannelID, c.Attachments[i]) {
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Submit stores the submission as a case, or returns the case an earlier delivery of the same
// submission created. It returns *intake.ValidationError for bad input, *intake.ConflictError
// when the external id was used for a different payload, and wraps intake.ErrUnavailable when
// the store could not commit.
func (s *Intake) Submit(ctx context.Context, sub intake.Submission) (intake.Receipt, error) {
	now := s.clock.Now()
	if err := s.check(sub, now); err != nil {
		return intake.Receipt{}, err
	}
	began := time.Now()
	c := normalize.Build(sub, now, *s.norm.Load())
	if s.opts.ObserveBuild != nil {
		s.opts.ObserveBuild(time.Since(began))
	}
	c.ID = store.NewID()
	code, err := QueryCode()
	if err != nil {
		return intake.Receipt{}, err
	}
	c.QueryCode = code
	// The case number is assigned by the store; validate with a placeholder of the same shape.
	c.CaseNo = "pending"
	if err := s.Validate(&c); err != nil {
		return intake.Receipt{}, err
	}
	c.CaseNo = ""

	nc := intake.NewCase{Case: &c, Raw: sub.Raw, PayloadHash: sub.PayloadHash, Fetch: s.toFetch(&c)}
	if s.opts.Route != nil {
		nc.ForwardTo = s.opts.Route(&c)
	}
	if err := s.linkRepeated(ctx, &nc, sub.Recent, now); err != nil {
		return intake.Receipt{}, fmt.Errorf("look for repeated requests: %w", err)
	}
	res, err := s.store.CreateCase(ctx, nc)
	if err != nil {
		return intake.Receipt{}, fmt.Errorf("store case: %w", err)
	}
	if !res.Created && sub.PayloadHash != "" && res.PayloadHash != sub.PayloadHash {
		return intake.Receipt{Case: res.Case}, &intake.ConflictError{Existing: res.Case}
	}
	if s.observer != nil {
		if res.Created {
			s.observer.CaseCreated(res.Case)
		} else {
			s.observer.CaseReplayed(res.Case)
		}
	}
	return intake.Receipt{Case: res.Case, Created: res.Created, Deliveries: res.Deliveries}, nil
}

func (s *Intake) check(sub intake.Submission, now time.Time) error {
	var fields []intake.FieldError
	add := func(field, reason string) { fields = append(fields, intake.FieldError{Field: field, Reason: reason}) }
	if !sub.Channel.Valid() {
		add("channel", fmt.Sprintf("unknown channel %q", sub.Channel))
	}
	if strings.TrimSpace(sub.ChannelID) == "" {
		add("channel_id", "is required")
	}
	if strings.TrimSpace(sub.ExternalID) == "" {
		add("external_id", "is required")
	}
	text := normalize.CleanText(sub.Text)
	if text == "" && normalize.CallerText(sub.Transcript) == "" {
		add("text", "is required and must not be blank")
	}
	if n := normalize.RuneCount(text); n > s.opts.MaxTextChars {
		add("text", fmt.Sprintf("is %d characters long; the limit is %d", n, s.opts.MaxTextChars))
	}
	if !sub.OccurredAt.IsZero() && (sub.OccurredAt.Before(intake.EarliestTimestamp()) || sub.OccurredAt.After(now.Add(s.opts.MaxFutureSkew))) {
		add("occurred_at", intake.ReasonTimestampRange)
	}
	if n := len(sub.Citizen.Phone); n > maxPhoneBytes {
		// Named as the client wrote it; the record would call it phone_raw.
		add("citizen.phone", fmt.Sprintf("is %d characters long; the limit is %d", n, maxPhoneBytes))
	}
	if sub.OperatorRequestType != "" && !sub.OperatorRequestType.Valid() {
		add("request_type", fmt.Sprintf("unknown request type %q", sub.OperatorRequestType))
	}
	if len(fields) > 0 {
		return &intake.ValidationError{Fields: fields}
	}
	return nil
}

// Validate checks a case against the schema-v1 rules.
func (s *Intake) Validate(c *intake.Case) error {
	err := s.validate.Struct(c)
	if err == nil {
		return nil
	}
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) {
		return fmt.Errorf("validate case: %w", err)
	}
	out := &intake.ValidationError{}
	for _, fe := range ves {
		field := strings.TrimPrefix(fe.Namespace(), "Case.")
		out.Fields = append(out.Fields, intake.FieldError{Field: field, Reason: reason(fe)})
	}
	return out
}

func reason(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "e164":
		return "must be a phone number in E.164 form"
	case "url":
		return "must be an absolute URL"
	case "oneof":
		return "must be one of: " + fe.Param()
	case "latitude", "longitude":
		return "must be a WGS84 " + fe.Tag()
	case "max":
		return "is longer than " + fe.Param()
	}
	return "fails " + fe.Tag()
}

// QueryCode returns a fresh 6-digit query code from crypto/rand.
func QueryCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("query code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// linkRepeated marks a new case as a repeated request when the same citizen (by phone, WeChat or
// Weibo id) sent a near-identical text within the window: it is linked to the earliest case of
// the chain, and the case system is told case.duplicate unless configured otherwise.
func (s *Intake) linkRepeated(ctx context.Context, nc *intake.NewCase, recent []*intake.Case, now time.Time) error {
	d := s.opts.Duplicates
	if !d.Enabled {
		return nil
	}
	c := nc.Case
	var keys []intake.CitizenKey
	if c.Citizen.Phone != "" {
		keys = append(keys, intake.CitizenKey{Kind: intake.KeyPhone, Value: c.Citizen.Phone})
	}
	if c.Citizen.WeChatOpenID != "" {
		keys = append(keys, intake.CitizenKey{Kind: intake.KeyOpenID, Value: c.Citizen.WeChatOpenID})
	}
	if c.Citizen.WeiboUID != "" {
		keys = append(keys, intake.CitizenKey{Kind: intake.KeyWeiboUID, Value: c.Citizen.WeiboUID})
	}
	if len(keys) == 0 {
		return nil
	}
	candidates := recent
	if candidates == nil {
		var err error
		if candidates, err = s.store.RecentCases(ctx, keys, now.Add(-d.Window), maxCandidates); err != nil {
			return err
		}
	}
	best, bestScore := (*intake.Case)(nil), 0.0
	for _, cand := range candidates {
		if cand.ChannelID == c.ChannelID && cand.ExternalID == c.ExternalID {
			continue // a retry of this very submission
		}
		if cand.ReceivedAt.Before(now.Add(-d.Window)) {
			continue
		}
		score := max(normalize.Similarity(cand.Content.Text, c.Content.Text),
			normalize.Similarity(normalize.CleanText(cand.Content.OriginalText), c.Content.Text))
		if score >= d.Threshold && score > bestScore {
			best, bestScore = cand, score
		}
	}
	if best == nil {
		return nil
	}
	root := best.ID
	if best.Related.DuplicateOf != "" {
		root = best.Related.DuplicateOf
	}
	c.Related.DuplicateOf = root
	nc.Event = d.ForwardAs
	return nil
}
