package app

import (
	"context"
	"strings"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/replies"
	"github.com/hotline12345/intake-gateway/normalize"
)

// Ratings of the satisfaction follow-up.
const (
	RatingSatisfied  = "satisfied"
	RatingBasically  = "basically_satisfied"
	RatingDissatisfy = "dissatisfied"
)

// ratingWords are matched at the start of the folded answer, longest first, so that 不满意 is
// not read as 满意.
var ratingWords = []struct{ word, rating string }{
	{"非常不满意", RatingDissatisfy}, {"很不满意", RatingDissatisfy}, {"不太满意", RatingDissatisfy}, {"不满意", RatingDissatisfy},
	{"基本满意", RatingBasically}, {"比较满意", RatingBasically}, {"还可以", RatingBasically}, {"还行", RatingBasically}, {"一般", RatingBasically},
	{"非常满意", RatingSatisfied}, {"很满意", RatingSatisfied}, {"满意", RatingSatisfied},
}

// ParseRating reads an answer to "回复 1 满意，2 基本满意，3 不满意": a digit (full-width too) or
// one of the words, optionally followed by a comment. ok=false for anything else.
func ParseRating(text string) (rating, comment string, ok bool) {
	f := strings.TrimSpace(normalize.FoldForMatching(text))
	if f == "" {
		return "", "", false
	}
	if d := f[0]; d >= '1' && d <= '3' && (len(f) == 1 || !('0' <= f[1] && f[1] <= '9')) {
		rest := strings.TrimLeft(f[1:], " .、,，:：")
		for _, w := range ratingWords {
			rest = strings.TrimPrefix(rest, w.word)
		}
		return [...]string{RatingSatisfied, RatingBasically, RatingDissatisfy}[d-'1'], strings.TrimSpace(strings.TrimLeft(rest, " .、,，:：。!！")), true
	}
	for _, w := range ratingWords {
		if rest, found := strings.CutPrefix(f, w.word); found {
			return w.rating, strings.TrimSpace(strings.TrimLeft(rest, " .、,，:：。!！")), true
		}
	}
	return "", "", false
}

// surveyAnswer records a rating when the citizen has a resolved case whose satisfaction question
// is waiting for an answer. ok=false when the text is not a rating or nothing is waiting.
func (r *Conversation) surveyAnswer(ctx context.Context, sub intake.Submission, text string) (Reply, bool, error) {
	if r.opts.SurveyWindow <= 0 {
		return Reply{}, false, nil
	}
	rating, comment, ok := ParseRating(text)
	if !ok {
		return Reply{}, false, nil
	}
	c, err := r.waitingSurvey(ctx, sub)
	if err != nil || c == nil {
		return Reply{}, false, err
	}
	reopen := rating == RatingDissatisfy && r.opts.ReopenOnDissatisfied
	applied, err := r.store.RecordFeedback(ctx, c.ID, intake.Feedback{ChannelID: sub.ChannelID, ExternalID: sub.ExternalID, PayloadHash: sub.PayloadHash,
		Rating: rating, Text: strings.TrimSpace(text + " " + comment), ReceivedAt: r.opts.Clock.Now(), Raw: sub.Raw, Reopen: reopen})
	if err != nil {
		return Reply{}, true, err
	}
	name := replies.SurveyThanks
	if reopen && applied {
		name = replies.SurveyReopened
	}
	reply, err := r.render(name, r.caseData(c, false))
	return Reply{Text: reply, Outcome: OutcomeFeedback, Case: c}, true, err
}

// waitingSurvey finds the citizen's case (on any of their identifiers) that was asked the
// satisfaction question within the window and has no answer yet.
func (r *Conversation) waitingSurvey(ctx context.Context, sub intake.Submission) (*intake.Case, error) {
	now := r.opts.Clock.Now()
	keys := citizenKeys(sub)
	if len(keys) == 0 {
		return nil, nil
	}
	cases, err := r.store.RecentCases(ctx, keys, now.Add(-r.opts.SurveyWindow-90*24*time.Hour), 10)
	if err != nil {
		return nil, err
	}
	for _, c := range cases {
		if c.Status != intake.StatusResolved && c.Status != intake.StatusClosed {
			continue
		}
		answered := false
		for _, h := range c.StatusHistory {
			answered = answered || h.Event == intake.EventFeedback
		}
		if answered {
			continue
		}
		notes, err := r.store.CaseNotifications(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		for _, n := range notes {
			if n.Event == "survey" && now.Sub(n.CreatedAt) <= r.opts.SurveyWindow {
				return c, nil
			}
		}
	}
	return nil, nil
}

func citizenKeys(sub intake.Submission) []intake.CitizenKey { return SenderKeys(sub.Citizen) }
