package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// NotifySender adapts Sender to the notifier: a message Twilio refuses because of the recipient
// (an invalid, landline or unsubscribed number: HTTP 400) cannot reach the citizen by SMS. A
// refusal of the gateway itself (bad credentials, an unknown account: 401/403/404) is an
// operator's problem and stays retryable, so fixing the config delivers what waited.
type NotifySender struct {
	Sender *Sender
}

// Send delivers msg by SMS to the number msg.Address.
func (n NotifySender) Send(ctx context.Context, msg intake.Outgoing) (string, error) {
	sid, err := n.Sender.Send(ctx, msg.Address, msg.Text)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest {
		return "", fmt.Errorf("%w: %v", intake.ErrCannotDeliver, err)
	}
	return sid, err
}

// NotificationRecorder records Twilio's delivery reports on the notifications they concern.
type NotificationRecorder struct {
	Store intake.Notifications
	Clock intake.Clock
}

// RecordMessageStatus maps a Twilio MessageStatus to the notification's state. Reports for
// messages the gateway did not send (or no longer knows) are ignored.
func (r NotificationRecorder) RecordMessageStatus(ctx context.Context, channelID, messageSID, status, errorCode string) error {
	var state intake.NotificationState
	reason := ""
	switch status {
	case "delivered", "read":
		state = intake.NotificationDelivered
	case "undelivered", "failed":
		state = intake.NotificationFailed
		reason = "twilio " + status
		if errorCode != "" {
			reason += " (error " + errorCode + ")"
		}
	case "accepted", "queued", "sending", "sent", "scheduled":
		state = intake.NotificationSent
	default:
		return nil
	}
	now := time.Now()
	if r.Clock != nil {
		now = r.Clock.Now()
	}
	_, err := r.Store.UpdateNotificationByRef(ctx, channelID, messageSID, state, reason, now)
	return err
}
