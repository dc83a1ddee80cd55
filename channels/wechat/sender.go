package wechat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"text/template"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxapi"
)

// WeChat error codes that mean "this way cannot reach the citizen now".
const (
	errOutOfWindow  = 45015 // customer-service messages only within 48 h of the citizen's last action
	errQuotaReached = 45047 // the customer-service quota for this citizen is used up
	errUnsubscribed = 43004 // the citizen no longer follows the account
)

// Sender sends notifications: a customer-service text while WeChat allows one, else a template
// message when the channel configures one (notify_template), else it reports that WeChat cannot
// reach the citizen, so the notifier falls back to SMS.
type Sender struct {
	client   *wxapi.Client
	template *notifyTemplate
}

type notifyTemplate struct {
	id     string
	url    string
	fields map[string]*template.Template
}

// NewSender reads the channel's notify_template setting:
//
//	notify_template:
//	  id: "TEMPLATE_ID"                  # from the WeChat console
//	  url: "https://…"                   # optional page the message opens
//	  fields: { first: "{{.Text}}", keyword1: "{{.CaseNo}}", keyword2: "{{.StatusName}}" }
//
// Field values are Go templates over intake.Outgoing.
func NewSender(cfg channels.Config, client *wxapi.Client) (*Sender, error) {
	s := &Sender{client: client}
	raw, ok := cfg.Settings["notify_template"]
	if !ok {
		return s, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("channels[%s].notify_template: must be a map with id and fields", cfg.ID)
	}
	t := &notifyTemplate{fields: map[string]*template.Template{}}
	t.id, _ = m["id"].(string)
	t.url, _ = m["url"].(string)
	if t.id == "" {
		return nil, fmt.Errorf("channels[%s].notify_template.id: is required", cfg.ID)
	}
	fields, ok := m["fields"].(map[string]any)
	if !ok || len(fields) == 0 {
		return nil, fmt.Errorf("channels[%s].notify_template.fields: must map template fields to texts", cfg.ID)
	}
	for name, v := range fields {
		text, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("channels[%s].notify_template.fields.%s: must be a text", cfg.ID, name)
		}
		tpl, err := template.New(name).Option("missingkey=error").Parse(text)
		if err == nil {
			err = tpl.Execute(new(bytes.Buffer), intake.Outgoing{})
		}
		if err != nil {
			return nil, fmt.Errorf("channels[%s].notify_template.fields.%s: %v", cfg.ID, name, err)
		}
		t.fields[name] = tpl
	}
	s.template = t
	return s, nil
}

// Send delivers msg to the openid msg.Address.
func (s *Sender) Send(ctx context.Context, msg intake.Outgoing) (string, error) {
	err := s.client.SendText(ctx, msg.Address, msg.Text)
	if err == nil {
		return "", nil
	}
	var apiErr *wxapi.APIError
	if !errors.As(err, &apiErr) {
		return "", err
	}
	switch apiErr.Code {
	case errUnsubscribed:
		return "", fmt.Errorf("%w: %v", intake.ErrCannotDeliver, err)
	case errOutOfWindow, errQuotaReached:
		if s.template == nil {
			return "", fmt.Errorf("%w: %v (no notify_template configured)", intake.ErrCannotDeliver, err)
		}
	default:
		return "", err
	}
	data := map[string]wxapi.TemplateField{}
	for name, tpl := range s.template.fields {
		var b bytes.Buffer
		if err := tpl.Execute(&b, msg); err != nil {
			return "", fmt.Errorf("wechat template field %s: %w", name, err)
		}
		data[name] = wxapi.TemplateField{Value: b.String()}
	}
	id, err := s.client.SendTemplate(ctx, wxapi.TemplateMessage{ToUser: msg.Address, TemplateID: s.template.id, URL: s.template.url, Data: data})
	if err != nil {
		if errors.As(err, &apiErr) && apiErr.Code == errUnsubscribed {
			return "", fmt.Errorf("%w: %v", intake.ErrCannotDeliver, err)
		}
		return "", err
	}
	return strconv.FormatInt(id, 10), nil
}
