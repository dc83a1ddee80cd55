// Package notify carries the case system's news back to the citizen: when an event arrives with
// notify set, a notification is rendered from the operator's texts, stored with its sending job,
// and sent on the channel the case came from. When that channel cannot reach the citizen now (the
// WeChat or Weibo reply window has closed, the citizen unsubscribed) and the citizen's phone is
// known, it falls back to SMS. Opt-outs, anonymity and confidentiality are respected. Every
// notification keeps its state (queued, sent, delivered, failed with a reason) for the case view.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/internal/replies"
)

// ErrCannotDeliver marks a send that failed because the channel cannot reach this citizen now:
// another channel may.
var ErrCannotDeliver = intake.ErrCannotDeliver

// Sender sends a message to one address of one channel instance and returns the platform's id
// of the message. It wraps intake.ErrCannotDeliver when another channel should be tried.
type Sender interface {
	Send(ctx context.Context, msg intake.Outgoing) (ref string, err error)
}

// Store is what notifications need from the case store.
type Store interface {
	intake.Notifications
	GetCase(ctx context.Context, ref string) (*intake.Case, error)
	OptedOut(ctx context.Context, channelID, address string) (bool, error)
}

// Options configure what citizens are told about their cases (the notifications section of the
// configuration).
type Options struct {
	// Events of the case system that notify the citizen (when the event asks to notify).
	Events []string `koanf:"events" validate:"dive,oneof=accepted assigned progress resolved closed rejected reopened"`
	// SMSChannel is the twilio channel used for SMS and as the fallback when the citizen's own
	// channel cannot deliver; empty: the first twilio channel.
	SMSChannel string `koanf:"sms_channel"`
	// Survey asks for satisfaction (回访) after a case is resolved, and recognises the answer
	// within SurveyWindow on any of the citizen's channels.
	Survey       bool          `koanf:"survey"`
	SurveyWindow time.Duration `koanf:"survey_window" validate:"gt=0"`
	// ReopenOnDissatisfied reopens a resolved case when the citizen answers 不满意.
	ReopenOnDissatisfied bool `koanf:"reopen_on_dissatisfied"`
}

// Texts gives the current reply texts (they are reloaded on SIGHUP).
type Texts func() *replies.Replies

// Route is a channel instance able to send.
type Route struct {
	Kind   intake.ChannelKind
	Sender Sender
}

// Notifier decides whether and where to notify, and queues the notification.
type Notifier struct {
	store    Store
	texts    Texts
	cfg      Options
	routes   map[string]Route // by channel id
	smsID    string
	location *time.Location
	log      *slog.Logger
}

// New builds the notifier. routes maps channel ids to their senders; smsChannel names the
// channel used for SMS and fallbacks ("" when there is none).
func New(st Store, texts Texts, cfg Options, routes map[string]Route, smsChannel string, loc *time.Location, logger *slog.Logger) *Notifier {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if loc == nil {
		loc = time.UTC
	}
	return &Notifier{store: st, texts: texts, cfg: cfg, routes: routes, smsID: smsChannel, location: loc, log: logger}
}

// Plan renders the notifications a case event gives the citizen of c: none when the event is
// not one that notifies, no text exists for it, or no channel can reach the citizen; the
// event's own message, and after "resolved" the satisfaction question. They are not stored:
// the caller stores them in the same transaction as the event (intake.Cases.AddStatus), so that
// an event and its notifications are recorded together or not at all.
func (n *Notifier) Plan(c *intake.Case, ch intake.StatusChange) ([]intake.Notification, error) {
	event := ch.Event
	if event == "" {
		event = string(ch.Status)
	}
	if !slices.Contains(n.cfg.Events, event) {
		return nil, nil
	}
	name := "notify_" + event
	if c.Citizen.Confidential {
		name = "notify_confidential"
	}
	texts := n.texts()
	if !texts.Has(name) {
		return nil, nil
	}
	kind, channelID, address := n.target(c)
	if channelID == "" {
		n.log.Info("no channel can reach the citizen; notification not sent", "case_id", c.ID, "event", event)
		return nil, nil
	}
	data := texts.CaseData(c, n.location)
	data.Department, data.Message = ch.Department, ch.Message
	text, err := texts.Render(name, data)
	if err != nil {
		return nil, err
	}
	out := []intake.Notification{{CaseID: c.ID, Event: event, Channel: kind, ChannelID: channelID, Address: address, Text: text}}
	if event == "resolved" && n.cfg.Survey && texts.Has("survey_question") {
		q, err := texts.Render("survey_question", texts.CaseData(c, n.location))
		if err != nil {
			return nil, err
		}
		out = append(out, intake.Notification{CaseID: c.ID, Event: "survey", Channel: kind, ChannelID: channelID, Address: address, Text: q})
	}
	return out, nil
}

// target is where a case's citizen is told first: the channel the case came from, or SMS for
// cases that came by phone or REST with a valid number.
func (n *Notifier) target(c *intake.Case) (intake.ChannelKind, string, string) {
	if r, ok := n.routes[c.ChannelID]; ok {
		switch c.Channel {
		case intake.ChannelWeChat:
			if c.Citizen.WeChatOpenID != "" {
				return r.Kind, c.ChannelID, c.Citizen.WeChatOpenID
			}
		case intake.ChannelWeibo:
			if c.Citizen.WeiboUID != "" {
				return r.Kind, c.ChannelID, c.Citizen.WeiboUID
			}
		case intake.ChannelSMS:
			if c.Citizen.Phone != "" {
				return r.Kind, c.ChannelID, c.Citizen.Phone
			}
		}
	}
	if n.smsID != "" && c.Citizen.Phone != "" && !c.Citizen.Anonymous {
		return intake.ChannelSMS, n.smsID, c.Citizen.Phone
	}
	return "", "", ""
}

// OrderWait is how long a notification waits for an earlier one of the same case.
const OrderWait = 300 * time.Millisecond

// Observer is told how each send of a notification ended, for metrics: outcome is "sent",
// "failed" (given up) or "retry" (a transient failure River tries again), channel the kind the
// last send went to (SMS after a fallback).
type Observer interface {
	Notified(channel intake.ChannelKind, outcome string)
}

// Worker sends queued notifications (the notify_citizen job).
type Worker struct {
	river.WorkerDefaults[jobs.NotifyCitizen]
	n   *Notifier
	obs Observer
}

// NewWorker returns the River worker for n. obs may be nil.
func NewWorker(n *Notifier, obs Observer) *Worker { return &Worker{n: n, obs: obs} }

// Work sends one notification, falling back to SMS when the first channel cannot deliver.
func (w *Worker) Work(ctx context.Context, job *river.Job[jobs.NotifyCitizen]) error {
	n := w.n
	note, err := n.store.GetNotification(ctx, job.Args.NotificationID)
	if errors.Is(err, intake.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if note.State != intake.NotificationQueued {
		return nil // already sent by an earlier run of this job
	}
	// A citizen reads a case's messages in the order they happened: wait while an earlier
	// notification of the same case is still being sent.
	earlier, err := n.store.CaseNotifications(ctx, note.CaseID)
	if err != nil {
		return err
	}
	for _, e := range earlier {
		if e.ID != note.ID && e.State == intake.NotificationQueued &&
			(e.CreatedAt.Before(note.CreatedAt) || (e.CreatedAt.Equal(note.CreatedAt) && e.ID < note.ID)) {
			return river.JobSnooze(OrderWait)
		}
	}
	c, err := n.store.GetCase(ctx, note.CaseID)
	if err != nil {
		return err
	}
	note.Attempts++
	sendErr := n.send(ctx, note)
	if errors.Is(sendErr, ErrCannotDeliver) && note.Channel != intake.ChannelSMS && n.smsID != "" && c.Citizen.Phone != "" && !c.Citizen.Anonymous {
		first := fmt.Sprintf("%s: %v", note.ChannelID, sendErr)
		note.Channel, note.ChannelID, note.Address = intake.ChannelSMS, n.smsID, c.Citizen.Phone
		sendErr = n.send(ctx, note)
		note.Reason = first + "; fell back to SMS"
		if sendErr != nil {
			note.Reason += ": " + sendErr.Error()
		}
	} else if sendErr != nil {
		note.Reason = sendErr.Error()
	}
	switch {
	case sendErr == nil:
		note.State = intake.NotificationSent
	case errors.Is(sendErr, ErrCannotDeliver) || job.Attempt >= job.MaxAttempts:
		note.State = intake.NotificationFailed
	}
	if err := n.store.UpdateNotification(ctx, *note); err != nil {
		return err
	}
	if w.obs != nil {
		outcome := "retry"
		switch note.State {
		case intake.NotificationSent:
			outcome = "sent"
		case intake.NotificationFailed:
			outcome = "failed"
		}
		w.obs.Notified(note.Channel, outcome)
	}
	if note.State == intake.NotificationQueued {
		return sendErr // a transient failure: River tries again later
	}
	return nil
}

// send delivers note on its current channel, unless the citizen opted out there.
func (n *Notifier) send(ctx context.Context, note *intake.Notification) error {
	route, ok := n.routes[note.ChannelID]
	if !ok {
		return fmt.Errorf("%w: channel %s cannot send", ErrCannotDeliver, note.ChannelID)
	}
	out, err := n.store.OptedOut(ctx, note.ChannelID, note.Address)
	if err != nil {
		return err
	}
	if out {
		return fmt.Errorf("%w: the citizen opted out of %s", ErrCannotDeliver, note.ChannelID)
	}
	c, err := n.store.GetCase(ctx, note.CaseID)
	if err != nil {
		return err
	}
	ref, err := route.Sender.Send(ctx, intake.Outgoing{Address: note.Address, Text: note.Text, CaseNo: c.CaseNo,
		StatusName: n.texts().StatusName(c.Status), Event: note.Event})
	if err != nil {
		return err
	}
	note.ProviderRef = ref
	return nil
}
