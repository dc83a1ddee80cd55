package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	twilioapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hotline12345/intake-gateway/channels"
)

// DefaultSendTimeout bounds one REST call to Twilio (twilio-go's own default is also 10 s).
const DefaultSendTimeout = 10 * time.Second

// Sender sends SMS through Twilio's REST API (twilio-go, Api.CreateMessage) for one channel. It
// is safe for concurrent use.
type Sender struct {
	accountSID, authToken string
	from, serviceSID      string
	statusCallback        string
	httpClient            *http.Client
}

// SenderOption configures a Sender.
type SenderOption func(*Sender)

// WithHTTPClient makes the Sender use c (tests point it at a fake Twilio API with a
// host-rewriting transport). Redirects are never followed, whatever c says.
func WithHTTPClient(c *http.Client) SenderOption {
	return func(s *Sender) {
		if c != nil {
			s.httpClient = c
		}
	}
}

// WithStatusCallback sets the StatusCallback URL sent with every message; "" sends none.
func WithStatusCallback(u string) SenderOption {
	return func(s *Sender) { s.statusCallback = u }
}

// NewSender builds the Sender of cfg. Messages go out from the channel's messaging service
// when messaging_service_sid is set, else from its number (from). The status callback defaults
// to the channel's setting status_callback_url, else <public base URL>/hooks/twilio/<id>/status
// (channel public_base_url, else server.public_base_url); with neither, none is requested.
func NewSender(cfg channels.Config, publicBaseURL string, opts ...SenderOption) (*Sender, error) {
	if cfg.AccountSID == "" || cfg.AuthToken == "" {
		return nil, fmt.Errorf("twilio: channel %s: account_sid and auth_token are required to send: %w", cfg.ID, channels.ErrSendingNotConfigured)
	}
	if cfg.From == "" && cfg.MessagingServiceSID == "" {
		return nil, fmt.Errorf("twilio: channel %s: from or messaging_service_sid is required to send: %w", cfg.ID, channels.ErrSendingNotConfigured)
	}
	st, err := decodeSettings(cfg.Settings)
	if err != nil {
		return nil, fmt.Errorf("twilio: channel %s: %w", cfg.ID, err)
	}
	s := &Sender{
		accountSID: cfg.AccountSID, authToken: cfg.AuthToken,
		from: cfg.From, serviceSID: cfg.MessagingServiceSID,
		httpClient: &http.Client{Timeout: DefaultSendTimeout},
	}
	switch {
	case st.StatusCallbackURL != "":
		s.statusCallback = st.StatusCallbackURL
	case st.PublicBaseURL != "":
		s.statusCallback = strings.TrimRight(st.PublicBaseURL, "/") + "/hooks/twilio/" + cfg.ID + "/" + RouteStatus
	case publicBaseURL != "":
		s.statusCallback = strings.TrimRight(publicBaseURL, "/") + "/hooks/twilio/" + cfg.ID + "/" + RouteStatus
	}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// StatusCallback is the URL Twilio reports delivery statuses to ("" for none).
func (s *Sender) StatusCallback() string { return s.statusCallback }

// APIError is an error answer from Twilio's REST API: HTTP status, Twilio's error code (e.g.
// 21211 invalid 'To', 21610 recipient unsubscribed with STOP, 20429 too many requests) and
// message.
type APIError struct {
	Status   int
	Code     int
	Message  string
	MoreInfo string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("twilio: HTTP %d, error %d: %s", e.Status, e.Code, e.Message)
}

// Permanent reports whether sending the same message again cannot succeed: a 4xx answer other
// than 429 (rate limit) and 408. Network errors and 5xx answers are not APIErrors, or not
// permanent.
func (e *APIError) Permanent() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests && e.Status != http.StatusRequestTimeout
}

// Send sends body to the number to and returns Twilio's MessageSid. ctx bounds the call (the
// Twilio client itself takes no context; it is carried by the HTTP transport). Errors that
// Twilio answered are *APIError.
func (s *Sender) Send(ctx context.Context, to, body string) (string, error) {
	if strings.TrimSpace(to) == "" {
		return "", errors.New("twilio: send: no recipient")
	}
	if strings.TrimSpace(body) == "" {
		return "", errors.New("twilio: send: empty message")
	}
	hc := &http.Client{
		Transport: contextTransport{ctx: ctx, next: s.httpClient.Transport},
		Timeout:   s.httpClient.Timeout,
		Jar:       s.httpClient.Jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	c := &client.Client{Credentials: client.NewCredentials(s.accountSID, s.authToken), HTTPClient: hc}
	c.SetAccountSid(s.accountSID)
	api := twilioapi.NewApiServiceWithClient(c)

	params := &twilioapi.CreateMessageParams{}
	params.SetTo(to).SetBody(body)
	if s.serviceSID != "" {
		params.SetMessagingServiceSid(s.serviceSID)
	} else {
		params.SetFrom(s.from)
	}
	if s.statusCallback != "" {
		params.SetStatusCallback(s.statusCallback)
	}
	msg, err := api.CreateMessage(params)
	if err != nil {
		return "", apiError(err)
	}
	if msg == nil || msg.Sid == nil || *msg.Sid == "" {
		return "", errors.New("twilio: send: the answer carries no message sid")
	}
	return *msg.Sid, nil
}

// apiError turns twilio-go's error types into *APIError; other errors (network, context) are
// wrapped as they are.
func apiError(err error) error {
	var legacy *client.TwilioRestError
	if errors.As(err, &legacy) {
		return &APIError{Status: legacy.Status, Code: legacy.Code, Message: legacy.Message, MoreInfo: legacy.MoreInfo}
	}
	var v1 *client.RestErrorV1
	if errors.As(err, &v1) {
		return &APIError{Status: v1.HttpStatusCode, Code: v1.Code, Message: v1.Message}
	}
	return fmt.Errorf("twilio: send: %w", err)
}

// contextTransport attaches ctx to every request: twilio-go builds its requests with
// context.Background().
type contextTransport struct {
	ctx  context.Context
	next http.RoundTripper
}

func (t contextTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r.WithContext(t.ctx))
}
