package normalize

import (
	"slices"
	"strings"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// Options tune Build. The zero value is usable: no classifier leaves a case "other", no
// calendar leaves it without a deadline.
type Options struct {
	// PhoneRegion is the region assumed for phone numbers without a country code.
	PhoneRegion string
	// Classifier decides category, request type, emergency, out-of-scope and district.
	Classifier *Classifier
	// Calendar and Deadlines give the case its due time.
	Calendar  *Calendar
	Deadlines DeadlineRules
}

// Build turns a submission into a canonical case received at receivedAt. It fills everything the
// gateway knows without I/O; the intake service adds id, query code and case number. The result
// still has to pass validation: Build never rejects, it only cleans.
func Build(sub intake.Submission, receivedAt time.Time, opts Options) intake.Case {
	// Stores keep microseconds; truncating here makes the case returned at creation identical to
	// the one read back later.
	receivedAt = receivedAt.UTC().Truncate(time.Microsecond)
	occurredAt := sub.OccurredAt.UTC().Truncate(time.Microsecond)
	if sub.OccurredAt.IsZero() {
		occurredAt = receivedAt
	}

	c := intake.Case{
		SchemaVersion: intake.SchemaVersion,
		Channel:       sub.Channel,
		ChannelID:     sub.ChannelID,
		ExternalID:    sub.ExternalID,
		OccurredAt:    occurredAt,
		ReceivedAt:    receivedAt,
		Citizen:       buildCitizen(sub.Citizen, opts),
		Content:       buildContent(sub),
		Attachments:   CleanAttachments(sub.Attachments),
		Location:      CleanLocation(sub.Location),
		Priority:      intake.PriorityNormal,
		Status:        intake.StatusReceived,
		StatusHistory: []intake.StatusChange{{
			Status: intake.StatusReceived,
			Event:  string(intake.StatusReceived),
			At:     receivedAt,
			Source: "gateway",
		}},
		Metadata: cleanMetadata(sub.Metadata),
	}
	if c.Attachments == nil {
		c.Attachments = []intake.Attachment{}
	}
	classify(&c, sub, opts)
	if opts.Calendar != nil {
		due := DueAt(receivedAt, c.Classification.RequestType, c.Emergency != nil, opts.Calendar, opts.Deadlines).UTC()
		c.DueAt = &due
	}
	return c
}

// classify fills classification, emergency, priority and district. Only what the citizen said is
// looked at: for a phone call the caller's turns, never the agent's greeting.
func classify(c *intake.Case, sub intake.Submission, opts Options) {
	auto := intake.Classification{RequestType: intake.RequestOther, Category: "other", CategoryName: "其他", MatchedTerms: []string{}, Source: "auto"}
	if opts.Classifier != nil {
		text := ClassifiableText(c.Content.Text)
		if len(sub.Transcript) > 0 {
			if caller := CallerText(sub.Transcript); caller != "" {
				text = caller
			}
		}
		res := opts.Classifier.Classify(text)
		auto = res.Classification()
		if auto.MatchedTerms == nil {
			auto.MatchedTerms = []string{}
		}
		c.Emergency = res.Emergency
		c.Priority = res.Priority()
		if res.District != "" {
			if c.Location == nil {
				c.Location = &intake.Location{Source: intake.LocationText}
			}
			if c.Location.District == "" {
				c.Location.District = res.District
			}
		}
	}
	c.Classification = withOperatorChoice(auto, sub, opts.Classifier)
}

// withOperatorChoice lets an operator's category or request type win while keeping the
// automatic one beside it.
func withOperatorChoice(cl intake.Classification, sub intake.Submission, classifier *Classifier) intake.Classification {
	if sub.OperatorCategory == "" && sub.OperatorRequestType == "" {
		return cl
	}
	cl.AutoCategory, cl.AutoRequestType = cl.Category, cl.RequestType
	cl.Source = "operator"
	if sub.OperatorCategory != "" && sub.OperatorCategory != cl.Category {
		cl.Category = sub.OperatorCategory
		cl.CategoryName = ""
		if classifier != nil {
			cl.CategoryName = classifier.CategoryName(cl.Category)
		}
	}
	if sub.OperatorRequestType != "" {
		cl.RequestType = sub.OperatorRequestType
	}
	cl.Confidence = 1
	return cl
}

func buildCitizen(in intake.CitizenInput, opts Options) intake.Citizen {
	out := intake.Citizen{
		Name:         CleanText(in.Name),
		WeChatOpenID: strings.TrimSpace(in.WeChatOpenID),
		WeiboUID:     strings.TrimSpace(in.WeiboUID),
		Anonymous:    in.Anonymous,
		Confidential: in.Confidential,
	}
	if p := PhoneNumber(in.Phone, opts.PhoneRegion); p.Raw != "" {
		out.Phone = p.E164
		if !p.Valid {
			out.PhoneRaw = p.Raw
			out.PhoneInvalid = true
		}
	}
	return out
}

// buildContent keeps the original text and derives the normalized one. A phone call without an
// operator summary is described by the caller's own turns: the agent's greeting is noise.
func buildContent(sub intake.Submission) intake.Content {
	content := intake.Content{
		// As sent, except NUL: PostgreSQL's JSON functions (the text-search index reads the
		// record) refuse \u0000, and the raw payload keeps the exact bytes anyway.
		OriginalText: strings.ReplaceAll(sub.Text, "\x00", "\uFFFD"),
		Text:         CleanText(sub.Text),
		Transcript:   slices.Clone(sub.Transcript),
	}
	for i := range content.Transcript {
		content.Transcript[i].Text = CleanText(content.Transcript[i].Text)
	}
	if content.Text == "" && len(sub.Transcript) > 0 {
		content.Text = CleanText(CallerText(sub.Transcript))
	}
	return content
}

// CallerText joins the caller's turns of a transcript, one per line.
func CallerText(segments []intake.Segment) string {
	var b strings.Builder
	for _, s := range segments {
		if s.Speaker != intake.SpeakerCaller {
			continue
		}
		t := CleanText(s.Text)
		if t == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(t)
	}
	return b.String()
}

// CleanLocation returns a copy of a location with its address and district cleaned as CleanText
// cleans text, and its source filled in; nil when nothing is left of it.
func CleanLocation(in *intake.Location) *intake.Location {
	if in == nil {
		return nil
	}
	loc := *in
	loc.Address = CleanText(loc.Address)
	loc.District = CleanText(loc.District)
	if loc.Lat == nil && loc.Lng == nil && loc.Address == "" && loc.District == "" {
		return nil
	}
	if loc.Source == "" {
		if loc.Lat != nil && loc.Lng != nil {
			loc.Source = intake.LocationGPS
		} else {
			loc.Source = intake.LocationText
		}
	}
	return &loc
}

// CleanAttachments returns a copy of atts with their free-text fields (title, transcription,
// content type) cleaned as CleanText cleans text: whoever sent them chose every byte, and the
// record's readers (operators' screens, the case system) should get the same clean text from
// every field. Ids and URLs are checked by the surfaces and the case's validation instead.
func CleanAttachments(atts []intake.Attachment) []intake.Attachment {
	out := slices.Clone(atts)
	for i := range out {
		out[i].Title = CleanText(out[i].Title)
		out[i].Transcription = CleanText(out[i].Transcription)
		// A media type is one line: the newlines CleanText keeps in text are folded too.
		out[i].ContentType = strings.Join(strings.Fields(CleanText(out[i].ContentType)), " ")
	}
	return out
}

// cleanMetadata returns a copy of the metadata with every value cleaned as CleanText cleans text.
func cleanMetadata(in map[string]string) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = CleanText(v)
	}
	return out
}
