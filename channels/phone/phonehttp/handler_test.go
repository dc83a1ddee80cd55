package phonehttp_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/api"
	"github.com/hotline12345/intake-gateway/channels/phone"
	"github.com/hotline12345/intake-gateway/channels/phone/phonehttp"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/normalize"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/sqlite"
)

const (
	submitKey = "k-callcentre-0123456789"
	readKey   = "k-reader-0123456789"
)

func keyHash(k string) string {
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

// newAPI wires the handler the way the gateway does: the API server's error handler,
// authentication with the submit scope, and api.ReadBody for the three media types.
func newAPI(t testing.TB, sub intake.Submitter, opts ...phonehttp.Option) *echo.Echo {
	t.Helper()
	keys := []api.APIKey{
		{Name: "callcentre", SHA256: keyHash(submitKey), Scopes: []string{"submit"}},
		{Name: "reader", SHA256: keyHash(readKey), Scopes: []string{"read"}},
	}
	e, err := api.New(api.Deps{Submitter: sub, APIKeys: keys, Limits: api.Limits{MaxBodyBytes: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	e.POST("/v1/transcripts", phonehttp.TranscriptsHandler(sub, opts...),
		api.NewAuthenticator(keys).Middleware(), api.RequireScope(api.ScopeSubmit), api.ReadBody(1<<20, phonehttp.MediaTypes...))
	return e
}

func upload(e *echo.Echo, target, contentType, body string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+submitKey)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// fakeSubmitter records submissions and answers like the intake service.
type fakeSubmitter struct {
	mu   sync.Mutex
	subs []intake.Submission
	err  error
}

func (f *fakeSubmitter) Submit(_ context.Context, s intake.Submission) (intake.Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs = append(f.subs, s)
	if f.err != nil {
		return intake.Receipt{}, f.err
	}
	return intake.Receipt{Created: true, Case: &intake.Case{ID: "0190d4a0-0000-7000-8000-000000000001", CaseNo: "WH2026112700001",
		Channel: s.Channel, ChannelID: s.ChannelID, ExternalID: s.ExternalID}}, nil
}

const jsonBody = `{"call_id":"20261127093000-0001","caller_number":"13800138000","called_line":"12345",
 "started_at":"2026-11-27T09:30:00+08:00","ended_at":"2026-11-27T09:31:00+08:00","agent_id":"A0107",
 "recording_url":"https://cc.example.gov.cn/rec/1.wav",
 "segments":[{"speaker":"agent","start_ms":0,"end_ms":3000,"text":"您好，12345热线。","confidence":0.98},
             {"speaker":"caller","start_ms":3200,"end_ms":9000,"text":"我们小区门口的路灯坏了。","confidence":0.55}]}`

const textBody = "坐席：您好，12345热线。\n市民：我们小区门口的路灯坏了。\n"

const vttBody = "WEBVTT\n\n00:00.000 --> 00:03.000\n<v 坐席>您好，12345热线。\n\n00:03.200 --> 00:09.000\n<v 市民>我们小区门口的路灯坏了。\n"

var metaQuery = "?" + url.Values{
	"call_id": {"20261127093000-0001"}, "caller_number": {"13800138000"}, "started_at": {"2026-11-27T09:30:00+08:00"},
	"summary": {"市民反映路灯损坏"}, "request_type": {"complaint"},
}.Encode()

var metaHeaders = map[string]string{
	"X-Call-Id": "20261127093000-0001", "X-Caller-Number": "13800138000", "X-Call-Started-At": "2026-11-27T09:30:00+08:00",
	"X-Operator-Summary": url.PathEscape("市民反映路灯损坏，约50%路段无照明"), "X-Agent-Id": "A0107",
}

func TestUploadFormats(t *testing.T) {
	cases := []struct {
		name, target, ct, body string
		hdr                    map[string]string
		check                  func(t *testing.T, s intake.Submission)
	}{
		{"json", "/v1/transcripts", "application/json", jsonBody, nil, func(t *testing.T, s intake.Submission) {
			if s.Text != "" || len(s.Transcript) != 2 || !s.Transcript[1].LowConfidence || s.Transcript[0].LowConfidence {
				t.Errorf("transcript %+v", s.Transcript)
			}
			if len(s.Attachments) != 1 || s.Attachments[0].Kind != intake.AttachmentAudio {
				t.Errorf("attachments %+v", s.Attachments)
			}
			if s.Metadata["agent_id"] != "A0107" || s.Metadata["called_line"] != "12345" {
				t.Errorf("metadata %v", s.Metadata)
			}
		}},
		{"text with query metadata", "/v1/transcripts" + metaQuery, "text/plain; charset=utf-8", textBody, nil, func(t *testing.T, s intake.Submission) {
			if s.Text != "市民反映路灯损坏" || s.OperatorRequestType != intake.RequestComplaint || len(s.Transcript) != 2 {
				t.Errorf("%+v", s)
			}
		}},
		{"webvtt with header metadata", "/v1/transcripts", "text/vtt", vttBody, metaHeaders, func(t *testing.T, s intake.Submission) {
			if s.Text != "市民反映路灯损坏，约50%路段无照明" || s.Transcript[1].StartMS != 3200 || s.Metadata["agent_id"] != "A0107" {
				t.Errorf("%+v", s)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sub := &fakeSubmitter{}
			rec := upload(newAPI(t, sub), c.target, c.ct, c.body, c.hdr)
			if rec.Code != http.StatusCreated {
				t.Fatalf("status %d %s", rec.Code, rec.Body)
			}
			if rec.Header().Get("Location") != "/v1/cases/0190d4a0-0000-7000-8000-000000000001" {
				t.Errorf("location %q", rec.Header().Get("Location"))
			}
			var view map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &view); err != nil || view["case_no"] != "WH2026112700001" {
				t.Errorf("body %s", rec.Body)
			}
			if d, ok := view["deliveries"].([]any); !ok || len(d) != 0 {
				t.Errorf("deliveries %v", view["deliveries"])
			}
			s := sub.subs[0]
			if s.Channel != intake.ChannelPhone || s.ChannelID != "phone:callcentre" || s.ExternalID != "20261127093000-0001" || s.Citizen.Phone != "13800138000" {
				t.Errorf("ids %s %s %s %s", s.Channel, s.ChannelID, s.ExternalID, s.Citizen.Phone)
			}
			if string(s.Raw.Body) != c.body || s.Raw.ContentType != c.ct || s.PayloadHash == "" {
				t.Errorf("raw %q %q", s.Raw.ContentType, s.Raw.Body)
			}
			c.check(t, s)
		})
	}
}

type problemDoc struct {
	Type   string              `json:"type"`
	Status int                 `json:"status"`
	Errors []intake.FieldError `json:"errors"`
}

func TestUploadRefusals(t *testing.T) {
	cases := []struct {
		name, target, ct, body string
		hdr                    map[string]string
		auth                   string
		status                 int
		field                  string
	}{
		{"no key", "/v1/transcripts", "application/json", jsonBody, nil, "none", 401, ""},
		{"key without submit scope", "/v1/transcripts", "application/json", jsonBody, nil, readKey, 403, ""},
		{"wrong media type", "/v1/transcripts", "application/xml", "<x/>", nil, "", 415, ""},
		{"not UTF-8 charset", "/v1/transcripts" + metaQuery, "text/plain; charset=gbk", textBody, nil, "", 415, ""},
		{"invalid UTF-8", "/v1/transcripts" + metaQuery, "text/plain", "市民：\xff", nil, "", 400, ""},
		{"unknown speaker", "/v1/transcripts" + metaQuery, "text/plain", "主持人：x\n市民：y", nil, "", 400, "body"},
		{"malformed WebVTT", "/v1/transcripts", "text/vtt", "WEBVTT\n\n00:01 --> 00:02\n<v 市民>x", metaHeaders, "", 400, "body"},
		{"metadata missing", "/v1/transcripts", "text/vtt", vttBody, nil, "", 400, "call_id"},
		{"query and header differ", "/v1/transcripts" + metaQuery, "text/vtt", vttBody, map[string]string{"X-Call-Id": "other"}, "", 400, "call_id"},
		{"summary header not encoded", "/v1/transcripts" + metaQuery, "text/vtt", vttBody, map[string]string{"X-Operator-Summary": "100%"}, "", 400, "summary"},
		{"metadata outside a JSON body", "/v1/transcripts?call_id=x", "application/json", jsonBody, nil, "", 400, "call_id"},
		{"no caller turn", "/v1/transcripts", "application/json", strings.Replace(jsonBody, `"speaker":"caller"`, `"speaker":"agent"`, 1), nil, "", 400, "segments"},
		{"overlap", "/v1/transcripts", "application/json", strings.Replace(jsonBody, `"start_ms":3200`, `"start_ms":2000`, 1), nil, "", 400, "segments[1]"},
		{"recording file: URL", "/v1/transcripts", "application/json", strings.Replace(jsonBody, "https://cc.example.gov.cn/rec/1.wav", "file:///etc/passwd", 1), nil, "", 422, "recording_url"},
		{"recording gopher: URL in the query", "/v1/transcripts" + metaQuery + "&recording_url=gopher%3A%2F%2F127.0.0.1%3A6379%2F_INFO", "text/plain", textBody, nil, "", 422, "recording_url"},
		{"recording data: URL in a header", "/v1/transcripts", "text/vtt", vttBody, mergeHeaders(metaHeaders, map[string]string{"X-Recording-Url": "data:audio/wav;base64,UklGRg=="}), "", 422, "recording_url"},
		{"too large", "/v1/transcripts", "application/json", `{"x":"` + strings.Repeat("a", 1<<20) + `"}`, nil, "", 413, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sub := &fakeSubmitter{}
			e := newAPI(t, sub)
			req := httptest.NewRequest(http.MethodPost, c.target, strings.NewReader(c.body))
			req.Header.Set("Content-Type", c.ct)
			switch c.auth {
			case "":
				req.Header.Set("Authorization", "Bearer "+submitKey)
			case "none":
			default:
				req.Header.Set("Authorization", "Bearer "+c.auth)
			}
			for k, v := range c.hdr {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != api.ProblemContentType {
				t.Errorf("content type %q", ct)
			}
			var p problemDoc
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != c.status {
				t.Fatalf("problem %s", rec.Body)
			}
			if c.field != "" {
				found := false
				for _, f := range p.Errors {
					found = found || f.Field == c.field
				}
				if !found {
					t.Errorf("no error on %s: %+v", c.field, p.Errors)
				}
			}
			if len(sub.subs) != 0 {
				t.Error("submitted")
			}
		})
	}
}

func mergeHeaders(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestUploadSubmitErrors(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		kind   string
	}{
		{"store down", intake.ErrUnavailable, 503, "unavailable"},
		{"core validation", intake.Invalid("occurred_at", "lies in the future"), 400, "validation"},
		{"call id reused", &intake.ConflictError{Existing: &intake.Case{ExternalID: "c1", CaseNo: "WH2026112700001"}}, 409, "idempotency-conflict"},
		{"unknown", errors.New("boom"), 500, "internal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := upload(newAPI(t, &fakeSubmitter{err: c.err}), "/v1/transcripts", "application/json", jsonBody, nil)
			if rec.Code != c.status || !strings.Contains(rec.Body.String(), "#"+c.kind) {
				t.Fatalf("status %d %s", rec.Code, rec.Body)
			}
			if c.status == 409 && !strings.Contains(rec.Body.String(), "call_id") {
				t.Errorf("conflict should name call_id: %s", rec.Body)
			}
		})
	}
}

// Without api.ReadBody in front, the handler reads (and bounds) the body itself.
func TestHandlerReadsBodyItself(t *testing.T) {
	sub := &fakeSubmitter{}
	keys := []api.APIKey{{Name: "callcentre", SHA256: keyHash(submitKey), Scopes: []string{"submit"}}}
	e, err := api.New(api.Deps{Submitter: sub, APIKeys: keys})
	if err != nil {
		t.Fatal(err)
	}
	e.POST("/v1/transcripts", phonehttp.TranscriptsHandler(sub, phonehttp.WithMaxBodyBytes(2048)), api.NewAuthenticator(keys).Middleware())
	if rec := upload(e, "/v1/transcripts", "application/json", jsonBody, nil); rec.Code != 201 {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	if rec := upload(e, "/v1/transcripts", "application/json", jsonBody+strings.Repeat(" ", 2048), nil); rec.Code != 413 {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
}

func openCore(t *testing.T) (*sqlite.Store, *app.Intake) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "intake.db"), Options: store.Options{CaseNoPrefix: "WH"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st, app.NewIntake(st, nil, app.IntakeOptions{Normalize: normalize.Options{PhoneRegion: "CN"}}, nil)
}

// With the real intake service and store: created once, retries answer 200 with the same case
// (also when copies race), and the case reads as the caller's words.
func TestUploadEndToEnd(t *testing.T) {
	st, svc := openCore(t)
	e := newAPI(t, svc, phonehttp.WithDeliveries(st), phonehttp.WithParseOptions(phone.Options{LowConfidence: 0.6}))

	first := upload(e, "/v1/transcripts", "application/json", jsonBody, nil)
	if first.Code != http.StatusCreated {
		t.Fatalf("status %d %s", first.Code, first.Body)
	}
	var c intake.CaseView
	if err := json.Unmarshal(first.Body.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	if c.Channel != intake.ChannelPhone || c.ChannelID != "phone:callcentre" || c.Citizen.Phone != "+8613800138000" {
		t.Errorf("case %+v", c.Case)
	}
	if c.Content.Text != "我们小区门口的路灯坏了。" {
		t.Errorf("text %q: the caller's turns, not the agent's greeting", c.Content.Text)
	}
	if len(c.Content.Transcript) != 2 || !c.Content.Transcript[1].LowConfidence {
		t.Errorf("transcript %+v", c.Content.Transcript)
	}
	if len(c.Deliveries) != 1 {
		t.Errorf("deliveries %+v", c.Deliveries)
	}

	// The same call re-sent in another JSON layout, and several copies at once.
	compact := strings.Join(strings.Fields(jsonBody), " ")
	var wg sync.WaitGroup
	codes := make([]int, 8)
	ids := make([]string, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := upload(e, "/v1/transcripts", "application/json", compact, nil)
			codes[i] = rec.Code
			var v intake.CaseView
			_ = json.Unmarshal(rec.Body.Bytes(), &v)
			if v.Case != nil {
				ids[i] = v.ID
			}
			if rec.Code == 200 && (rec.Header().Get("Idempotent-Replayed") != "true" || len(v.Deliveries) != 1) {
				t.Errorf("retry headers %v deliveries %+v", rec.Header(), v.Deliveries)
			}
		}()
	}
	wg.Wait()
	for i := range codes {
		if codes[i] != http.StatusOK || ids[i] != c.ID {
			t.Errorf("copy %d: %d case %s, want 200 case %s", i, codes[i], ids[i], c.ID)
		}
	}
	page, err := st.ListCases(context.Background(), intake.CaseFilter{Limit: 10})
	if err != nil || len(page.Cases) != 1 {
		t.Fatalf("%d cases, %v", len(page.Cases), err)
	}

	// Same call id, different content: a conflict, not a second case.
	changed := strings.Replace(jsonBody, "路灯坏了", "路灯一直不亮", 1)
	if rec := upload(e, "/v1/transcripts", "application/json", changed, nil); rec.Code != http.StatusConflict {
		t.Errorf("changed content: %d %s", rec.Code, rec.Body)
	}
	// The WebVTT form with a summary makes a case described by the summary.
	rec := upload(e, "/v1/transcripts?call_id=vtt-2&caller_number=13900139000&started_at=2026-11-27T10:00:00%2B08:00&summary=%E8%B7%AF%E7%81%AF%E6%8D%9F%E5%9D%8F",
		"text/vtt", vttBody, nil)
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"text":"路灯损坏"`) {
		t.Errorf("vtt: %d %s", rec.Code, rec.Body)
	}
}

// Copies of a new upload racing each other: exactly one 201, the rest 200, one case.
func TestConcurrentFirstUploads(t *testing.T) {
	st, svc := openCore(t)
	e := newAPI(t, svc, phonehttp.WithDeliveries(st))
	const n = 10
	codes := make([]int, n)
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := upload(e, "/v1/transcripts", "text/vtt", vttBody, metaHeaders)
			codes[i] = rec.Code
			var v intake.CaseView
			if json.Unmarshal(rec.Body.Bytes(), &v) == nil && v.Case != nil {
				ids[i] = v.ID
			}
		}()
	}
	wg.Wait()
	created := 0
	for i := range n {
		switch codes[i] {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Errorf("copy %d: status %d", i, codes[i])
		}
		if ids[i] == "" || ids[i] != ids[0] {
			t.Errorf("copy %d: case %q, first %q", i, ids[i], ids[0])
		}
	}
	if created != 1 {
		t.Errorf("%d copies created a case", created)
	}
	page, err := st.ListCases(context.Background(), intake.CaseFilter{Limit: 10})
	if err != nil || len(page.Cases) != 1 {
		t.Fatalf("%d cases, %v", len(page.Cases), err)
	}
}

// BenchmarkUpload600 is one 30-minute call (600 segments, WebVTT and JSON) through the whole
// HTTP path — authentication, body reading, parsing, validation, the answer — with a fake
// submitter, so that the store's share can be told apart.
func BenchmarkUpload600(b *testing.B) {
	var vtt, js strings.Builder
	vtt.WriteString("WEBVTT\n\n")
	js.WriteString(`{"call_id":"c-600","caller_number":"13800138000","started_at":"2026-11-27T09:30:00+08:00","segments":[`)
	for i := range 600 {
		label, speaker := "市民", "caller"
		if i%2 == 0 {
			label, speaker = "坐席", "agent"
		}
		ms := i * 3000
		vtt.WriteString(vttTS(ms) + " --> " + vttTS(ms+2800) + "\n<v " + label + ">我们小区门口的路灯坏了一个星期了，晚上很黑。\n\n")
		if i > 0 {
			js.WriteByte(',')
		}
		js.WriteString(`{"speaker":"` + speaker + `","start_ms":` + itoa(ms) + `,"end_ms":` + itoa(ms+2800) + `,"text":"我们小区门口的路灯坏了一个星期了，晚上很黑。","confidence":0.9}`)
	}
	js.WriteString(`]}`)
	e := newAPI(b, &fakeSubmitter{})
	for _, c := range []struct{ name, ct, body, target string }{
		{"webvtt", "text/vtt", vtt.String(), "/v1/transcripts" + metaQuery},
		{"json", "application/json", js.String(), "/v1/transcripts"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if rec := upload(e, c.target, c.ct, c.body, nil); rec.Code != http.StatusCreated {
					b.Fatalf("status %d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func vttTS(ms int) string {
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}
