package weibo

import (
	"context"
	"errors"
	"fmt"

	intake "github.com/hotline12345/intake-gateway"
)

// Sender sends notifications through the active-reply API. Weibo refuses replies outside the 48
// hours after the citizen's last message (and after one reply to a mention); a refusal that is
// not temporary means Weibo cannot reach the citizen now, so the notifier falls back to SMS.
type Sender struct {
	Client *Client
}

// Send delivers msg to the Weibo uid msg.Address.
func (s Sender) Send(ctx context.Context, msg intake.Outgoing) (string, error) {
	err := s.Client.SendText(ctx, msg.Address, TruncateText(msg.Text))
	if err == nil {
		return "", nil
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) && !apiErr.Temporary() {
		return "", fmt.Errorf("%w: %v", intake.ErrCannotDeliver, err)
	}
	return "", err
}
