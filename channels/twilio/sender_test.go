package twilio_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/twilio"
)

// Fake credentials must be alphanumeric: twilio-go refuses anything else (21222/21224).
const (
	fakeSID   = "ACtest0123"
	fakeToken = "tok0123"
)

// fakeTwilio is a stand-in for api.twilio.com.
type fakeTwilio struct {
	*httptest.Server
	mu       sync.Mutex
	requests []capturedRequest
	handler  func(w http.ResponseWriter, r *http.Request)
}

type capturedRequest struct {
	method, path, user, pass, contentType string
	form                                  url.Values
}

func newFakeTwilio(t *testing.T, handler func(w http.ResponseWriter, r *http.Request)) *fakeTwilio {
	f := &fakeTwilio{handler: handler}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		user, pass, _ := r.BasicAuth()
		f.mu.Lock()
		f.requests = append(f.requests, capturedRequest{r.Method, r.URL.Path, user, pass, r.Header.Get("Content-Type"), form})
		f.mu.Unlock()
		f.handler(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

// rewriteHost sends every request, whatever its host, to the fake server.
type rewriteHost struct{ to *url.URL }

func (rt rewriteHost) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = rt.to.Scheme, rt.to.Host, rt.to.Host
	return http.DefaultTransport.RoundTrip(r)
}

func (f *fakeTwilio) client() *http.Client {
	u, _ := url.Parse(f.URL)
	return &http.Client{Transport: rewriteHost{to: u}, Timeout: 5 * time.Second}
}

func senderChannel(settings map[string]any) channels.Config {
	return channels.Config{ID: "sms-main", Type: "twilio", AccountSID: fakeSID, AuthToken: fakeToken, From: "+15005550006", Settings: settings}
}

func created(sid string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"sid":"`+sid+`","status":"queued","account_sid":"`+fakeSID+`","to":"+8613800001234","body":"x"}`)
	}
}

func TestSendMessage(t *testing.T) {
	fake := newFakeTwilio(t, created("SM0123456789abcdef0123456789abcdef"))
	s, err := twilio.NewSender(senderChannel(nil), "https://hotline.example.gov.cn/", twilio.WithHTTPClient(fake.client()))
	if err != nil {
		t.Fatal(err)
	}
	sid, err := s.Send(context.Background(), "+8613800001234", "您的工单WH2026112700042已办结。")
	if err != nil {
		t.Fatal(err)
	}
	if sid != "SM0123456789abcdef0123456789abcdef" {
		t.Errorf("sid = %q", sid)
	}
	if len(fake.requests) != 1 {
		t.Fatalf("%d requests", len(fake.requests))
	}
	r := fake.requests[0]
	if r.method != http.MethodPost || r.path != "/2010-04-01/Accounts/"+fakeSID+"/Messages.json" {
		t.Errorf("%s %s", r.method, r.path)
	}
	if r.user != fakeSID || r.pass != fakeToken {
		t.Errorf("basic auth %q:%q", r.user, r.pass)
	}
	if !strings.HasPrefix(r.contentType, "application/x-www-form-urlencoded") {
		t.Errorf("content type %q", r.contentType)
	}
	want := url.Values{
		"To": {"+8613800001234"}, "From": {"+15005550006"}, "Body": {"您的工单WH2026112700042已办结。"},
		"StatusCallback": {"https://hotline.example.gov.cn/hooks/twilio/sms-main/status"},
	}
	if r.form.Encode() != want.Encode() {
		t.Errorf("form\n got %s\nwant %s", r.form.Encode(), want.Encode())
	}
}

func TestSendThroughMessagingService(t *testing.T) {
	fake := newFakeTwilio(t, created("SM1"))
	cfg := senderChannel(map[string]any{"status_callback_url": "https://cb.example/status"})
	cfg.MessagingServiceSID = "MG0123456789abcdef0123456789abcdef"
	s, err := twilio.NewSender(cfg, "", twilio.WithHTTPClient(fake.client()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), "+8613800001234", "hi"); err != nil {
		t.Fatal(err)
	}
	f := fake.requests[0].form
	if f.Get("MessagingServiceSid") != cfg.MessagingServiceSID || f.Has("From") || f.Get("StatusCallback") != "https://cb.example/status" {
		t.Errorf("form %v", f)
	}
}

func TestSendWithoutStatusCallback(t *testing.T) {
	fake := newFakeTwilio(t, created("SM1"))
	s, err := twilio.NewSender(senderChannel(nil), "", twilio.WithHTTPClient(fake.client()))
	if err != nil {
		t.Fatal(err)
	}
	if s.StatusCallback() != "" {
		t.Errorf("status callback %q without a public URL", s.StatusCallback())
	}
	if _, err := s.Send(context.Background(), "+8613800001234", "hi"); err != nil {
		t.Fatal(err)
	}
	if fake.requests[0].form.Has("StatusCallback") {
		t.Error("StatusCallback sent without a public URL")
	}
	// The channel's own public URL is used when the server has none.
	s2, _ := twilio.NewSender(senderChannel(map[string]any{"public_base_url": "https://sms.example"}), "")
	if s2.StatusCallback() != "https://sms.example/hooks/twilio/sms-main/status" {
		t.Errorf("status callback %q", s2.StatusCallback())
	}
}

func TestSendErrors(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		body      string
		code      int
		permanent bool
		typed     bool
	}{
		{"invalid number", 400, `{"code":21211,"message":"The 'To' number +86 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`, 21211, true, true},
		{"unsubscribed", 400, `{"code":21610,"message":"Attempt to send to unsubscribed recipient","more_info":"https://www.twilio.com/docs/errors/21610","status":400}`, 21610, true, true},
		{"bad credentials", 401, `{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`, 20003, true, true},
		{"rate limited", 429, `{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}`, 20429, false, true},
		{"server error", 500, `{"code":20500,"message":"Internal Server Error","status":500}`, 20500, false, true},
		{"not JSON", 502, `<html>Bad Gateway</html>`, 0, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := newFakeTwilio(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(c.status)
				_, _ = io.WriteString(w, c.body)
			})
			s, err := twilio.NewSender(senderChannel(nil), "", twilio.WithHTTPClient(fake.client()))
			if err != nil {
				t.Fatal(err)
			}
			sid, err := s.Send(context.Background(), "+8613800001234", "hi")
			if err == nil || sid != "" {
				t.Fatalf("sid %q err %v", sid, err)
			}
			var apiErr *twilio.APIError
			if errors.As(err, &apiErr) != c.typed {
				t.Fatalf("typed = %v: %v", !c.typed, err)
			}
			if !c.typed {
				return
			}
			if apiErr.Code != c.code || apiErr.Status != c.status || apiErr.Permanent() != c.permanent || apiErr.Message == "" {
				t.Errorf("error %+v permanent %v", apiErr, apiErr.Permanent())
			}
		})
	}
}

func TestSendHonoursContext(t *testing.T) {
	release := make(chan struct{})
	fake := newFakeTwilio(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	s, _ := twilio.NewSender(senderChannel(nil), "", twilio.WithHTTPClient(fake.client()))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Send(ctx, "+8613800001234", "hi")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestNewSenderRefuses(t *testing.T) {
	cfg := senderChannel(nil)
	cfg.From = ""
	if _, err := twilio.NewSender(cfg, ""); err == nil {
		t.Error("accepted a channel with neither from nor messaging_service_sid")
	}
	cfg = senderChannel(nil)
	cfg.AuthToken = ""
	if _, err := twilio.NewSender(cfg, ""); err == nil {
		t.Error("accepted a channel without auth_token")
	}
	s, _ := twilio.NewSender(senderChannel(nil), "")
	if _, err := s.Send(context.Background(), "", "hi"); err == nil {
		t.Error("sent without a recipient")
	}
	if _, err := s.Send(context.Background(), "+8613800001234", " "); err == nil {
		t.Error("sent an empty message")
	}
}

func TestNotifySenderSeparatesUnreachableCitizensFromGatewayProblems(t *testing.T) {
	cases := []struct {
		name          string
		status        int
		body          string
		cannotDeliver bool
	}{
		{"invalid number", 400, `{"code":21211,"message":"The 'To' number is not a valid phone number.","status":400}`, true},
		{"unsubscribed", 400, `{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}`, true},
		{"landline", 400, `{"code":21614,"message":"'To' number is not a valid mobile number","status":400}`, true},
		{"bad credentials", 401, `{"code":20003,"message":"Authenticate","status":401}`, false},
		{"unknown account", 404, `{"code":20404,"message":"The requested resource was not found","status":404}`, false},
		{"rate limited", 429, `{"code":20429,"message":"Too Many Requests","status":429}`, false},
		{"server error", 503, `{"code":20500,"message":"Service Unavailable","status":503}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := newFakeTwilio(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(c.status)
				_, _ = io.WriteString(w, c.body)
			})
			s, err := twilio.NewSender(senderChannel(nil), "", twilio.WithHTTPClient(fake.client()))
			if err != nil {
				t.Fatal(err)
			}
			_, err = twilio.NotifySender{Sender: s}.Send(context.Background(), intake.Outgoing{Address: "+8613800001234", Text: "您的诉求已受理"})
			if err == nil {
				t.Fatal("a refused message reported as sent")
			}
			if errors.Is(err, intake.ErrCannotDeliver) != c.cannotDeliver {
				t.Fatalf("cannot deliver = %v, want %v: %v", !c.cannotDeliver, c.cannotDeliver, err)
			}
		})
	}

	fake := newFakeTwilio(t, created("SM0123456789abcdef0123456789abcdef"))
	s, err := twilio.NewSender(senderChannel(nil), "", twilio.WithHTTPClient(fake.client()))
	if err != nil {
		t.Fatal(err)
	}
	sid, err := twilio.NotifySender{Sender: s}.Send(context.Background(), intake.Outgoing{Address: "+8613800001234", Text: "您的诉求已受理"})
	if err != nil || sid != "SM0123456789abcdef0123456789abcdef" {
		t.Fatalf("sid %q err %v", sid, err)
	}
	got := fake.requests[len(fake.requests)-1].form
	if got.Get("To") != "+8613800001234" || got.Get("Body") != "您的诉求已受理" {
		t.Fatalf("sent %v", got)
	}
}
