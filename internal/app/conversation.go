package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/logging"
	"github.com/hotline12345/intake-gateway/internal/replies"
	"github.com/hotline12345/intake-gateway/media"
	"github.com/hotline12345/intake-gateway/normalize"
)

// ConversationStore is what the conversation needs from the case store.
type ConversationStore interface {
	intake.Conversations
	intake.LookupLimits
	GetCase(ctx context.Context, ref string) (*intake.Case, error)
	CaseNotifications(ctx context.Context, caseID string) ([]intake.Notification, error)
}

// ConversationOptions configure a Conversation.
type ConversationOptions struct {
	Conversation ConversationSettings
	// Menus maps, per channel id, a menu key to the name of the reply it answers with.
	Menus    map[string]map[string]string
	Location *time.Location
	Logger   *slog.Logger
	Clock    intake.Clock
	// Survey: answers to the satisfaction question are recognised within SurveyWindow after it
	// was asked; a dissatisfied answer reopens the case when ReopenOnDissatisfied is set.
	SurveyWindow         time.Duration
	ReopenOnDissatisfied bool
	// RepeatWindow is the intake service's repeat-detection window: the citizen's cases are
	// looked up once, over the longer of it and the conversation window, for both decisions.
	RepeatWindow time.Duration
	// Supplements bound what follow-up messages may make of a case (limits.max_text_chars,
	// max_case_chars, max_supplements); zero values mean no limit.
	Supplements intake.SupplementLimits
	// MaxFutureSkew is how far in the future a message's own timestamp may lie (default 5m): the
	// same rule as for a new case, so a supplement cannot carry a time the case could not.
	MaxFutureSkew time.Duration
	// Locker, when set, extends the per-citizen lock to every process sharing the store (the
	// PostgreSQL store's advisory locks); nil keeps it within this process, which is all an
	// embedded SQLite file, owned by one process, needs.
	Locker CitizenLocker
}

// CitizenLocker serialises the decisions on one conversation key across processes.
type CitizenLocker interface {
	// LockCitizen returns once no other process holds key, and holds it until unlock is called.
	LockCitizen(ctx context.Context, key string) (unlock func(), err error)
}

// locationChannels are the channels whose citizens report a position apart from their messages
// (WeChat's LOCATION event); only there is a remembered position looked up.
var locationChannels = map[intake.ChannelKind]bool{intake.ChannelWeChat: true}

// Conversation is the one place that decides what a citizen's message on a
// conversational channel (WeChat, SMS, Weibo) means, so that every channel behaves alike:
//
//   - a platform's retry of a message already handled gets the same answer as the first time;
//     the same message id from another sender or with other content is a conflict, answered
//     with nothing of the case it belongs to;
//   - "查询" answers with the status of the citizen's latest case, "查询 <工单编号> <查询码>" with
//     that case's, rate limited per citizen, and with one neutral answer for every miss; failed
//     look-ups are counted in the store per case number and per sender, and past the limit the
//     case number (or sender) gets the neutral answer for a while, whoever asks, except the
//     case's own citizen;
//   - on SMS, opt-out and opt-in words stop and resume notifications;
//   - a message within the conversation window of the citizen's open case joins it as a
//     supplement, unless it says it is a new matter or the case is full;
//   - anything else becomes a new case, with the citizen's recently reported position attached.
//
// Replies are rendered from the operator-editable texts in configs/messages.yaml.
type Conversation struct {
	store     ConversationStore
	submitter intake.Submitter
	replies   *replies.Current
	opts      ConversationOptions
	queryRe   *regexp.Regexp
	limiters  *limiterSet
	// lookups is how many failed look-ups lock a case number or a sender out.
	lookups intake.LookupPolicy
	locks   [256]sync.Mutex
}

// NewConversation builds a Conversation. texts holds the parsed messages file (shared with the notifier, and
// swapped on reload).
func NewConversation(st ConversationStore, submitter intake.Submitter, texts *replies.Current, opts ConversationOptions) (*Conversation, error) {
	if opts.Clock == nil {
		opts.Clock = intake.SystemClock
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.MaxFutureSkew <= 0 {
		opts.MaxFutureSkew = 5 * time.Minute
	}
	cv := opts.Conversation
	if cv.QueryLimit <= 0 || cv.QueryPeriod <= 0 {
		cv.QueryLimit, cv.QueryPeriod = 5, 10*time.Minute
	}
	if cv.QueryFailLimit <= 0 || cv.QueryFailWindow <= 0 || cv.QueryLockout <= 0 {
		cv.QueryFailLimit, cv.QueryFailWindow, cv.QueryLockout = 5, 15*time.Minute, 15*time.Minute
	}
	if len(cv.QueryKeywords) == 0 {
		cv.QueryKeywords = []string{"查询"}
	}
	opts.Conversation = cv
	words := make([]string, len(cv.QueryKeywords))
	for i, w := range cv.QueryKeywords {
		words[i] = regexp.QuoteMeta(normalize.FoldForMatching(w))
	}
	// "查询", "查询 WH2026112700042 123456", "查询WH2026112700042，123456": the keyword alone, or
	// followed by a case number and a 6-digit query code.
	queryRe, err := regexp.Compile(`^(?:` + strings.Join(words, "|") + `)(?:[\s:,，：]*([a-z]{0,10}\d{8,}))?(?:[\s:,，：]*(\d{6}))?[\s。.!！?？]*$`)
	if err != nil {
		return nil, fmt.Errorf("query keywords: %w", err)
	}
	r := &Conversation{store: st, submitter: submitter, replies: texts, opts: opts, queryRe: queryRe,
		limiters: newLimiterSet(rate.Every(cv.QueryPeriod/time.Duration(cv.QueryLimit)), cv.QueryLimit),
		lookups:  intake.LookupPolicy{Limit: cv.QueryFailLimit, Window: cv.QueryFailWindow, Lockout: cv.QueryLockout}}
	return r, nil
}

// Receive handles one citizen message (see the package documentation for the order of rules).
func (r *Conversation) Receive(ctx context.Context, msg Message) (Reply, error) {
	sub := msg.Submission
	who, hasWho := citizenKey(sub)
	text := normalize.CleanText(sub.Text)
	// Refused here and not only when a case is created: a blank message would otherwise join
	// the citizen's open case as an empty supplement.
	if text == "" && len(sub.Attachments) == 0 && sub.Location == nil && len(sub.Transcript) == 0 {
		return Reply{}, intake.Invalid("text", "is required and must not be blank")
	}
	if t := sub.OccurredAt; !t.IsZero() && (t.Before(intake.EarliestTimestamp()) || t.After(r.opts.Clock.Now().Add(r.opts.MaxFutureSkew))) {
		return Reply{}, intake.Invalid("occurred_at", intake.ReasonTimestampRange)
	}
	if hasWho && len(sub.Attachments) == 0 && sub.Location == nil {
		if reply, ok, err := r.command(ctx, sub, who, text); ok || err != nil {
			return reply, err
		}
		if reply, ok, err := r.surveyAnswer(ctx, sub, text); ok || err != nil {
			return reply, err
		}
	}

	// One citizen's messages are decided one at a time, so that a text and the photo sent right
	// after it cannot both open a case.
	// With several replicas the lock is also taken in the store, inside the process's own (so
	// that the process's other messages of the citizen wait here, not in the database), and held
	// exactly as long.
	if hasWho {
		key := sub.ChannelID + "|" + string(who.Kind) + "|" + who.Value
		mu := r.lockFor(key)
		mu.Lock()
		defer mu.Unlock()
		if r.opts.Locker != nil {
			unlock, err := r.opts.Locker.LockCitizen(ctx, key)
			if err != nil {
				return Reply{}, fmt.Errorf("citizen lock: %w", err)
			}
			defer unlock()
		}
	}
	// What the message already became, the citizen's recent cases and their remembered position
	// are read at once.
	now := r.opts.Clock.Now()
	q := intake.MessageQuery{ChannelID: sub.ChannelID, ExternalID: sub.ExternalID}
	if hasWho {
		q.Citizen, q.RecentSince, q.RecentLimit = citizenKeys(sub), now.Add(-max(r.opts.Conversation.Window, r.opts.RepeatWindow)), 20
		if sub.Location == nil && r.opts.Conversation.LocationTTL > 0 && locationChannels[sub.Channel] {
			q.LocationOf, q.LocationSince = &who, now.Add(-r.opts.Conversation.LocationTTL)
		}
	}
	known, err := r.store.MessageContext(ctx, q)
	if err != nil {
		return Reply{}, err
	}
	// A platform's retry (or a copy handled while we waited) gets the first answer, and must not
	// become a supplement of the case it created itself.
	if known.Handled {
		return r.answerAgain(ctx, msg, known)
	}
	newMatter := false
	sub.Text, newMatter = r.stripNewMatter(sub.Text)
	if hasWho {
		sub.Recent = known.Recent
		if sub.Recent == nil {
			sub.Recent = []*intake.Case{}
		}
	}
	if hasWho && !newMatter && !msg.Public && r.opts.Conversation.Window > 0 {
		open := latestOnChannel(sub.Recent, sub.ChannelID, now.Add(-r.opts.Conversation.Window))
		switch {
		case open != nil && isOpen(open.Status):
			res, err := r.store.AddSupplement(ctx, open.ID, intake.Supplement{
				ChannelID: sub.ChannelID, ExternalID: sub.ExternalID, Text: normalize.CleanText(sub.Text),
				Attachments: normalize.CleanAttachments(sub.Attachments), Location: normalize.CleanLocation(sub.Location), ReceivedAt: now, Raw: sub.Raw,
				Fetch: media.ToFetch(sub.Channel, sub.Attachments), PayloadHash: sub.PayloadHash, Limits: r.opts.Supplements,
			})
			if errors.Is(err, intake.ErrCaseFull) {
				r.opts.Logger.InfoContext(ctx, "supplement refused: the case is full", "channel_id", sub.ChannelID, "case_no", open.CaseNo)
				text, err := r.render(replies.CaseFull, r.caseData(open, false))
				return Reply{Text: text, Outcome: OutcomeCaseFull, Case: open}, err
			}
			if err != nil {
				return Reply{}, err
			}
			outcome := OutcomeSupplement
			if !res.Applied {
				// A copy that raced this one stored it first: a retry only if it carried the same.
				if !samePayload(sub.PayloadHash, res.PayloadHash) {
					return Reply{}, r.conflict(ctx, sub)
				}
				outcome = OutcomeDuplicate
			}
			return r.caseReply(ctx, res.Case, true, false, outcome)
		}
	}

	if q.LocationOf != nil {
		sub.Location = known.Location
	}
	receipt, err := r.submitter.Submit(ctx, sub)
	if err != nil {
		return Reply{}, err
	}
	outcome := OutcomeCreated
	if !receipt.Created {
		outcome = OutcomeDuplicate
	}
	return r.caseReply(ctx, receipt.Case, false, msg.Public, outcome)
}

// answerAgain answers a message that was already turned into a case, supplement or survey
// answer exactly as the first time — when it is the same message: from the citizen the case
// belongs to, with the content first stored. A message id is the platform's, and another
// sender (or a client choosing its own ids) may use it again; answering that with the first
// case would hand its case number and query code to a stranger.
func (r *Conversation) answerAgain(ctx context.Context, msg Message, known intake.MessageContext) (Reply, error) {
	c, err := r.store.GetCase(ctx, known.CaseID)
	if err != nil {
		return Reply{}, err
	}
	sub := msg.Submission
	otherSender := false
	if keys := citizenKeys(sub); len(keys) > 0 {
		otherSender = !ownedBy(c, keys)
	}
	if otherSender || !samePayload(sub.PayloadHash, known.PayloadHash) {
		return Reply{}, r.conflict(ctx, sub)
	}
	kind := known.Kind
	if kind == intake.MessageFeedback {
		text, err := r.render(replies.SurveyThanks, r.caseData(c, false))
		return Reply{Text: text, Outcome: OutcomeDuplicate, Case: c}, err
	}
	reply, err := r.caseReply(ctx, c, kind == intake.MessageSupplement, msg.Public, OutcomeDuplicate)
	return reply, err
}

// conflict is the error for a message whose id was already used by another sender or for other
// content. It names neither the id (an event's holds an openid) nor the case: channels answer
// it with a fixed 409 text.
func (r *Conversation) conflict(ctx context.Context, sub intake.Submission) error {
	r.opts.Logger.WarnContext(ctx, "message id already used by another sender or for other content: refused", "channel_id", sub.ChannelID)
	return fmt.Errorf("channel message: %w", intake.ErrIdempotencyConflict)
}

// samePayload compares the payload hashes of two deliveries of a message id; a side without a
// hash (a message stored before hashes were kept, a channel that gives none) cannot tell.
func samePayload(a, b string) bool {
	return a == "" || b == "" || a == b
}

// ownedBy reports whether one of the sender's identifiers is the case citizen's.
func ownedBy(c *intake.Case, keys []intake.CitizenKey) bool {
	for _, k := range keys {
		switch {
		case k.Kind == intake.KeyOpenID && k.Value == c.Citizen.WeChatOpenID,
			k.Kind == intake.KeyWeiboUID && k.Value == c.Citizen.WeiboUID,
			k.Kind == intake.KeyPhone && k.Value == c.Citizen.Phone:
			return true
		}
	}
	return false
}

// command answers status queries and SMS opt-out/opt-in words; ok=false when text is neither.
func (r *Conversation) command(ctx context.Context, sub intake.Submission, who intake.CitizenKey, text string) (Reply, bool, error) {
	folded := normalize.FoldForMatching(text)
	if sub.Channel == intake.ChannelSMS && who.Kind == intake.KeyPhone {
		optOut, optIn := matchesWord(folded, r.opts.Conversation.OptOutWords), matchesWord(folded, r.opts.Conversation.OptInWords)
		if optOut || optIn {
			if err := r.store.SetOptOut(ctx, sub.ChannelID, who.Value, optOut, r.opts.Clock.Now()); err != nil {
				return Reply{}, true, err
			}
			name := replies.OptIn
			if optOut {
				name = replies.OptOut
			}
			reply, err := r.render(name, replies.Data{})
			return Reply{Text: reply, Outcome: OutcomeOptOut}, true, err
		}
	}
	m := r.queryRe.FindStringSubmatch(folded)
	if m == nil {
		return Reply{}, false, nil
	}
	reply, err := r.statusQuery(ctx, sub, who, strings.ToUpper(m[1]), m[2])
	return reply, true, err
}

func matchesWord(folded string, words []string) bool {
	folded = strings.Trim(folded, " 。.!！")
	for _, w := range words {
		if folded == normalize.FoldForMatching(w) {
			return true
		}
	}
	return false
}

// statusQuery answers "查询" for the citizen's own latest case, or "查询 <no> <code>" for a case
// whose query code matches. Every miss gets the same neutral text so that case numbers cannot be
// probed, and each citizen may ask only so often.
func (r *Conversation) statusQuery(ctx context.Context, sub intake.Submission, who intake.CitizenKey, caseNo, code string) (Reply, error) {
	if !r.limiters.allow(sub.ChannelID + "|" + string(who.Kind) + "|" + who.Value) {
		text, err := r.render(replies.StatusRateLimited, replies.Data{})
		return Reply{Text: text, Outcome: OutcomeStatusQuery}, err
	}
	var (
		c   *intake.Case
		err error
	)
	switch {
	case caseNo == "" && code == "":
		c, err = r.store.LatestCase(ctx, who, "", time.Time{})
	case caseNo != "" && code != "":
		c, err = r.lookUp(ctx, sub, who, caseNo, code)
	default:
		err = intake.ErrNotFound
	}
	if errors.Is(err, intake.ErrNotFound) {
		text, err := r.render(replies.StatusNotFound, replies.Data{})
		return Reply{Text: text, Outcome: OutcomeStatusQuery}, err
	}
	if err != nil {
		return Reply{}, err
	}
	text, err := r.render(replies.Status, r.caseData(c, false))
	return Reply{Text: text, Outcome: OutcomeStatusQuery, Case: c}, err
}

// maxCaseNoKey bounds the case numbers whose failed look-ups are counted: real ones are about
// 15 characters, and the pattern lets a sender write any number of digits.
const maxCaseNoKey = 40

// lookUp finds the case a "查询 <no> <code>" asks for, or ErrNotFound for every kind of miss.
// A per-process rate limit alone is no defence against six-digit codes: failed look-ups are
// counted in the store — per case number, whoever asks, and per sender, whatever they ask
// for — and past the limit the number (or sender) is locked out for a while, every answer the
// same neutral miss, so that neither the lockout nor anything else tells whether the case
// exists. The case's own citizen, writing from an identity the case records (its openid, Weibo
// uid or phone), is never locked out of it: a stranger's guessing must not cost them their own
// case's status.
func (r *Conversation) lookUp(ctx context.Context, sub intake.Submission, who intake.CitizenKey, caseNo, code string) (*intake.Case, error) {
	now := r.opts.Clock.Now()
	keys := []string{senderKey(sub.ChannelID, who)}
	if len(caseNo) <= maxCaseNoKey {
		keys = append(keys, "case:"+caseNo)
	}
	c, err := r.store.GetCase(ctx, caseNo)
	switch {
	case errors.Is(err, intake.ErrNotFound):
		c = nil
	case err != nil:
		return nil, err
	}
	if c == nil || !ownedBy(c, citizenKeys(sub)) {
		locked, err := r.store.LookupLocked(ctx, keys, now)
		if err != nil {
			return nil, err
		}
		if locked {
			return nil, fmt.Errorf("look-up locked out: %w", intake.ErrNotFound)
		}
	}
	if c != nil && constantTimeEqual(c.QueryCode, code) {
		return c, nil
	}
	lockedNow, err := r.store.RecordLookupFailure(ctx, keys, now, r.lookups)
	if err != nil {
		return nil, err
	}
	for _, k := range lockedNow {
		if no, ok := strings.CutPrefix(k, "case:"); ok {
			r.opts.Logger.WarnContext(ctx, "case number locked out of status look-ups after repeated failures",
				"case_no", no, "failures", r.lookups.Limit, "lockout", r.lookups.Lockout.String())
		} else {
			r.opts.Logger.WarnContext(ctx, "sender locked out of status look-ups after repeated failures",
				"channel_id", sub.ChannelID, "citizen", logging.PseudoID(who.Value), "failures", r.lookups.Limit, "lockout", r.lookups.Lockout.String())
		}
	}
	return nil, fmt.Errorf("look-up missed: %w", intake.ErrNotFound)
}

// senderKey is a sender's key for failed look-ups: a hash, so that no identifier is stored
// for it.
func senderKey(channelID string, who intake.CitizenKey) string {
	sum := sha256.Sum256([]byte(channelID + "|" + string(who.Kind) + "|" + who.Value))
	return "sender:" + hex.EncodeToString(sum[:16])
}

// Event handles a platform event.
func (r *Conversation) Event(ctx context.Context, ev Event) (Reply, error) {
	who, hasWho := citizenKey(intake.Submission{Citizen: ev.Citizen})
	now := r.opts.Clock.Now()
	switch ev.Kind {
	case EventSubscribe:
		if hasWho {
			if err := r.store.SetOptOut(ctx, ev.ChannelID, who.Value, false, now); err != nil {
				return Reply{}, err
			}
		}
		text, err := r.render(replies.Welcome, replies.Data{})
		return Reply{Text: text, Outcome: OutcomeIgnored}, err
	case EventUnsubscribe:
		// Recorded as an opt-out: the platform no longer lets us message the citizen anyway, and
		// notifications must not keep trying. Never answered.
		if hasWho {
			if err := r.store.SetOptOut(ctx, ev.ChannelID, who.Value, true, now); err != nil {
				return Reply{}, err
			}
		}
		r.opts.Logger.InfoContext(ctx, "citizen unsubscribed", "channel_id", ev.ChannelID, "citizen", logging.PseudoID(who.Value))
		return Reply{Outcome: OutcomeIgnored}, nil
	case EventMenuClick, EventScan:
		name := r.opts.Menus[ev.ChannelID][ev.Key]
		if name == "" && ev.Kind == EventScan {
			name = replies.Welcome
		}
		if name == "" || !r.replies.Load().Has(name) {
			return Reply{Outcome: OutcomeIgnored}, nil
		}
		text, err := r.render(name, replies.Data{})
		return Reply{Text: text, Outcome: OutcomeIgnored}, err
	case EventLocation:
		if hasWho && ev.Location != nil {
			if err := r.store.RememberLocation(ctx, who, ev.ChannelID, *ev.Location, now); err != nil {
				return Reply{}, err
			}
		}
		return Reply{Outcome: OutcomeIgnored}, nil
	}
	return Reply{Outcome: OutcomeIgnored}, nil
}

func (r *Conversation) stripNewMatter(text string) (string, bool) {
	trimmed := strings.TrimSpace(text)
	for _, p := range r.opts.Conversation.NewMatterPrefixes {
		if p != "" && strings.HasPrefix(trimmed, p) {
			rest := strings.TrimLeft(strings.TrimPrefix(trimmed, p), " \u3000:：,，。")
			if rest == "" {
				rest = trimmed
			}
			return rest, true
		}
	}
	return text, false
}

func (r *Conversation) lockFor(key string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return &r.locks[h.Sum32()%uint32(len(r.locks))]
}

func citizenKey(sub intake.Submission) (intake.CitizenKey, bool) { return SenderKey(sub.Citizen) }

// latestOnChannel is the newest of the citizen's cases on channelID received since since.
func latestOnChannel(recent []*intake.Case, channelID string, since time.Time) *intake.Case {
	for _, c := range recent {
		if c.ChannelID == channelID && !c.ReceivedAt.Before(since) {
			return c
		}
	}
	return nil
}

func isOpen(s intake.Status) bool {
	return !slices.Contains([]intake.Status{intake.StatusResolved, intake.StatusClosed, intake.StatusRejected}, s)
}

func (r *Conversation) render(name string, d replies.Data) (string, error) {
	return r.replies.Load().Render(name, d)
}

// caseReply renders the answer for a message that made or joined a case. It depends only on the
// case, so a retry is answered exactly like the first delivery.
func (r *Conversation) caseReply(ctx context.Context, c *intake.Case, supplement, public bool, outcome Outcome) (Reply, error) {
	name := replies.CaseCreated
	data := r.caseData(c, public)
	switch {
	case public:
		name = replies.CaseCreatedPublic
	case supplement:
		name = replies.SupplementAdded
	case c.Related.DuplicateOf != "" && c.Emergency == nil:
		if orig, err := r.store.GetCase(ctx, c.Related.DuplicateOf); err == nil {
			name, data.OriginalCaseNo = replies.CaseMerged, orig.CaseNo
		}
	}
	text, err := r.render(name, data)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Text: text, Outcome: outcome, Case: c}, nil
}

func (r *Conversation) caseData(c *intake.Case, public bool) replies.Data {
	d := r.replies.Load().CaseData(c, r.opts.Location)
	if public {
		d.Public, d.QueryCode = true, ""
	}
	return d
}
