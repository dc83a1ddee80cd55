package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/internal/logging"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
	"github.com/hotline12345/intake-gateway/store/postgres"
	"github.com/hotline12345/intake-gateway/store/sqlite"
)

// The penetration test's server-side request forgery, replayed against the assembled gateway:
// a client with only the submit scope names an internal URL as an attachment (or a call's
// recording) and hopes the media job copies it where a read key can download it.

const (
	mediaSubmitKey = "media-submit-key" // scope submit only, like the attacker's
	mediaReadKey   = "media-read-key"
	mediaTwilioSID = "AC0123456789abcdef0123456789abcdef"
	mediaTwilioTok = "6f2c1e8b9d0a4c3e7b5f1a2d8c9e0b4f"
)

// countingServer is an httptest server that counts its requests and keeps their Authorization
// headers.
type countingServer struct {
	*httptest.Server
	hits  atomic.Int32
	mu    sync.Mutex
	auths []string
}

func newCountingServer(t *testing.T, h http.HandlerFunc) *countingServer {
	s := &countingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		s.auths = append(s.auths, r.Header.Get("Authorization"))
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *countingServer) host() string { return strings.TrimPrefix(s.URL, "http://") }

type mediaGateway struct {
	app *assembly
	srv *httptest.Server
	dir string // attachments directory
}

// assembleMedia builds the gateway from a config file with the given media section and extra
// channel entries.
func assembleMedia(t *testing.T, dbURL, mediaYAML, channelsYAML string) *mediaGateway {
	t.Helper()
	dir := t.TempDir()
	yaml := fmt.Sprintf(`database: { url: %q, sqlite_path: %q, attachments_dir: %q }
log: { level: error }
api_keys:
  - { name: crm, sha256: "%s", scopes: [submit] }
  - { name: reader, sha256: "%s", scopes: [read] }
media:
%s
channels:
%s
`, dbURL, filepath.Join(dir, "media.db"), filepath.Join(dir, "attachments"), sha(mediaSubmitKey), sha(mediaReadKey), mediaYAML, channelsYAML)
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, []string{})
	if err != nil {
		t.Fatal(err)
	}
	if err := checkChannels(cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	a, err := assemble(context.Background(), cfg, logging.New(testLog{t}, "error", "text"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.handler)
	t.Cleanup(func() { srv.Close(); a.Close() })
	return &mediaGateway{app: a, srv: srv, dir: filepath.Join(dir, "attachments")}
}

func (g *mediaGateway) call(t *testing.T, method, path, key, contentType, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, g.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func (g *mediaGateway) caseView(t *testing.T, id string) intake.CaseView {
	t.Helper()
	status, body := g.call(t, "GET", "/v1/cases/"+id, mediaReadKey, "", "")
	if status != 200 {
		t.Fatalf("GET case %s: %d %s", id, status, body)
	}
	var v intake.CaseView
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func (g *mediaGateway) caseCount(t *testing.T) int {
	t.Helper()
	page, err := g.app.store.ListCases(context.Background(), intake.CaseFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Cases)
}

// storedFiles counts the blobs in the attachment store.
func (g *mediaGateway) storedFiles(t *testing.T) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(g.dir, func(p string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return fs.SkipDir
		}
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasSuffix(p, ".type") && !strings.HasSuffix(p, ".tmp") {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

type fetchJob struct {
	CaseID string `json:"case_id"`
	Index  int    `json:"index"`
	State  string `json:"-"`
}

// fetchJobs lists the store's fetch_media jobs, read from the job table of either store.
func (g *mediaGateway) fetchJobs(t *testing.T) []fetchJob {
	t.Helper()
	var out []fetchJob
	scan := func(state string, args []byte) {
		var j fetchJob
		if err := json.Unmarshal(args, &j); err != nil {
			t.Fatalf("job args %s: %v", args, err)
		}
		j.State = state
		out = append(out, j)
	}
	switch st := g.app.store.(type) {
	case *sqlite.Store:
		// River keeps SQLite job args as JSONB; json() turns them back into text.
		rows, err := st.DB().Query(`SELECT state, json(args) FROM river_job WHERE kind = 'fetch_media'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var state string
			var args sql.RawBytes
			if err := rows.Scan(&state, &args); err != nil {
				t.Fatal(err)
			}
			scan(state, args)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	case *postgres.Store:
		var pool *pgxpool.Pool = st.Pool()
		rows, err := pool.Query(context.Background(), `SELECT state::text, args FROM river_job WHERE kind = 'fetch_media'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var state string
			var args []byte
			if err := rows.Scan(&state, &args); err != nil {
				t.Fatal(err)
			}
			scan(state, args)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unknown store %T", g.app.store)
	}
	return out
}

// twilioSignature is X-Twilio-Signature as Twilio computes it: the URL, then every parameter
// name followed by its value in sorted order, HMAC-SHA1 with the auth token, base64.
func twilioSignature(token, rawURL string, form url.Values) string {
	var b strings.Builder
	b.WriteString(rawURL)
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range form[k] {
			b.WriteString(k + v)
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func runSSRFAttack(t *testing.T, dbURL string) {
	// An internal service the gateway can reach and the attacker cannot.
	internal := newCountingServer(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "TOP-SECRET internal data")
	})
	// A call-centre recording host the operator allowed (media.rest_hosts).
	recordings := newCountingServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "audio/mpeg")
		_, _ = io.WriteString(w, "ID3-recording")
	})
	// Twilio's API, answering MMS media with the account's credentials only.
	twilioAPI := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != mediaTwilioSID || p != mediaTwilioTok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = io.WriteString(w, "\xff\xd8JPEG-mms")
	})
	// The fakes run on 127.0.0.1, so this lab config lifts the public-address check; the
	// allow-lists still decide which host:port may be fetched.
	g := assembleMedia(t, dbURL,
		fmt.Sprintf(`  { allow_private_networks: true, allow_http: true, rest_hosts: [%q] }`, recordings.host()),
		fmt.Sprintf(`  - { id: sms-main, type: twilio, account_sid: %s, auth_token: %s, media_hosts: [%q], credential_hosts: [%q] }`,
			mediaTwilioSID, mediaTwilioTok, twilioAPI.host(), twilioAPI.host()))
	secretURL := internal.URL + "/admin/export"

	// The attack, exactly as reported: an attachment on the gateway's own network.
	status, body := g.call(t, "POST", "/v1/submissions", mediaSubmitKey, "application/json",
		`{"channel":"phone","text":"x","attachments":[{"kind":"file","url":"`+secretURL+`"}]}`)
	if status != 201 {
		t.Fatalf("submission: %d %s", status, body)
	}
	var attack intake.CaseView
	_ = json.Unmarshal(body, &attack)
	// The same through POST /v1/transcripts.
	status, body = g.call(t, "POST", "/v1/transcripts", mediaSubmitKey, "application/json",
		`{"call_id":"c-ssrf-1","caller_number":"13800138000","started_at":"2026-11-27T09:30:00+08:00","recording_url":"`+secretURL+`",`+
			`"segments":[{"speaker":"caller","start_ms":0,"end_ms":1000,"text":"路灯坏了","confidence":0.9}]}`)
	if status != 201 {
		t.Fatalf("transcript: %d %s", status, body)
	}
	var call intake.CaseView
	_ = json.Unmarshal(body, &call)
	// An allowed recording host still works.
	status, body = g.call(t, "POST", "/v1/submissions", mediaSubmitKey, "application/json",
		`{"channel":"phone","text":"通话录音","attachments":[{"kind":"audio","url":"`+recordings.URL+`/rec/1.mp3"}]}`)
	if status != 201 {
		t.Fatalf("allowed submission: %d %s", status, body)
	}
	var allowed intake.CaseView
	_ = json.Unmarshal(body, &allowed)
	// Twilio MMS: the media on Twilio's (fake) host is fetched with the credentials; a second
	// MediaUrl on the internal service is not.
	hook := g.srv.URL + "/hooks/twilio/sms-main/sms"
	form := url.Values{
		"MessageSid": {"MM22222222222222222222222222222222"}, "AccountSid": {mediaTwilioSID}, "ApiVersion": {"2010-04-01"},
		"From": {"+8613800001234"}, "To": {"+15005550006"}, "Body": {"这是图片"}, "NumSegments": {"1"}, "NumMedia": {"2"},
		"MediaUrl0":         {twilioAPI.URL + "/2010-04-01/Accounts/" + mediaTwilioSID + "/Messages/MM2/Media/ME0"},
		"MediaContentType0": {"image/jpeg"},
		"MediaUrl1":         {secretURL},
		"MediaContentType1": {"image/png"},
	}
	req, _ := http.NewRequest("POST", hook, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilioSignature(mediaTwilioTok, hook, form))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("twilio webhook: %d", res.StatusCode)
	}
	var mmsID string
	waitFor(t, "the MMS case", func() bool {
		page, err := g.app.store.ListCases(context.Background(), intake.CaseFilter{Channel: intake.ChannelSMS, Limit: 10})
		if err != nil || len(page.Cases) != 1 {
			return false
		}
		mmsID = page.Cases[0].ID
		return true
	})

	// The media job runs for the allowed attachments and copies them.
	fetched := func(id string, i int) bool {
		return strings.HasPrefix(g.caseView(t, id).Attachments[i].URL, "/v1/attachments/")
	}
	waitFor(t, "the allowed recording to be copied", func() bool { return fetched(allowed.ID, 0) })
	waitFor(t, "the Twilio media to be copied", func() bool { return fetched(mmsID, 0) })
	for _, c := range []struct {
		id, want string
	}{{allowed.ID, "ID3-recording"}, {mmsID, "\xff\xd8JPEG-mms"}} {
		att := g.caseView(t, c.id).Attachments[0]
		status, body := g.call(t, "GET", att.URL, mediaReadKey, "", "")
		if status != 200 || string(body) != c.want {
			t.Fatalf("GET %s: %d %q", att.URL, status, body)
		}
	}

	// Nothing reached the internal service, no job was queued for its URL, and the store holds
	// the two allowed files only.
	if n := internal.hits.Load(); n != 0 {
		t.Fatalf("the internal service was requested %d times", n)
	}
	for _, j := range g.fetchJobs(t) {
		if j.CaseID == attack.ID || j.CaseID == call.ID || (j.CaseID == mmsID && j.Index == 1) {
			t.Fatalf("a fetch job was queued for the internal URL: %+v", j)
		}
	}
	if n := g.storedFiles(t); n != 2 {
		t.Fatalf("%d files in the attachment store, want the 2 allowed ones", n)
	}
	// The cases exist and keep the URL as a link, as it was sent.
	for _, c := range []struct {
		id   string
		i    int
		kind intake.AttachmentKind
	}{{attack.ID, 0, intake.AttachmentFile}, {call.ID, 0, intake.AttachmentAudio}, {mmsID, 1, intake.AttachmentImage}} {
		att := g.caseView(t, c.id).Attachments[c.i]
		if att.URL != secretURL || att.Kind != c.kind || att.MediaID != "" {
			t.Fatalf("case %s attachment %d: %+v, want the link as sent", c.id, c.i, att)
		}
	}
	// Twilio's host got the credentials; nothing else did.
	twilioAPI.mu.Lock()
	for _, a := range twilioAPI.auths {
		if !strings.HasPrefix(a, "Basic ") {
			t.Errorf("Twilio's host got %q", a)
		}
	}
	twilioAPI.mu.Unlock()
	if recordings.hits.Load() != 1 || recordings.auths[0] != "" {
		t.Fatalf("recording host: %d hits, auth %q", recordings.hits.Load(), recordings.auths)
	}

	// Schemes other than http(s): 422 naming the field, nothing stored.
	before, jobsBefore := g.caseCount(t), len(g.fetchJobs(t))
	for _, tc := range []struct{ path, ct, body, field string }{
		{"/v1/submissions", "application/json", `{"channel":"phone","text":"x","attachments":[{"kind":"file","url":"file:///etc/passwd"}]}`, "attachments[0].url"},
		{"/v1/submissions", "application/json", `{"text":"x","attachments":[{"kind":"link","url":"javascript:alert(document.cookie)"}]}`, "attachments[0].url"},
		{"/v1/transcripts", "application/json", `{"call_id":"c-ssrf-2","caller_number":"13800138000","started_at":"2026-11-27T09:30:00+08:00","recording_url":"gopher://127.0.0.1:6379/_FLUSHALL",` +
			`"segments":[{"speaker":"caller","start_ms":0,"end_ms":1000,"text":"路灯坏了","confidence":0.9}]}`, "recording_url"},
	} {
		status, body := g.call(t, "POST", tc.path, mediaSubmitKey, tc.ct, tc.body)
		var p struct {
			Type   string
			Errors []struct{ Field string }
		}
		_ = json.Unmarshal(body, &p)
		if status != 422 || !strings.HasSuffix(p.Type, "#unsupported-url-scheme") || len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
			t.Fatalf("%s %s: %d %s", tc.path, tc.body, status, body)
		}
	}
	status, body = g.call(t, "POST", "/v1/submissions:batch", mediaSubmitKey, "application/x-ndjson",
		`{"text":"x","attachments":[{"kind":"image","url":"data:image/png;base64,iVBORw0KGgo="}]}`)
	if status != 200 || !strings.Contains(string(body), `"status":422`) || !strings.Contains(string(body), `"failed":1`) {
		t.Fatalf("batch: %d %s", status, body)
	}
	if g.caseCount(t) != before || len(g.fetchJobs(t)) != jobsBefore {
		t.Fatal("a refused submission stored something")
	}
}

func TestSSRFAttackIsNotFetchedSQLite(t *testing.T) { runSSRFAttack(t, "") }

func TestSSRFAttackIsNotFetchedPostgres(t *testing.T) {
	runSSRFAttack(t, pgtest.NewDatabase(t, "", nil))
}

// With the default media policy a host on the allow-list whose name resolves to loopback is
// refused when the job connects: the job gives up, nothing is requested or stored.
func runLoopbackRefusedAtDialTime(t *testing.T, dbURL string) {
	recordings := newCountingServer(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ID3")
	})
	_, port, _ := strings.Cut(recordings.host(), ":")
	named := "localhost:" + port
	g := assembleMedia(t, dbURL, fmt.Sprintf(`  { allow_http: true, rest_hosts: [%q] }`, named), "  []")
	status, body := g.call(t, "POST", "/v1/submissions", mediaSubmitKey, "application/json",
		`{"channel":"phone","text":"通话录音","attachments":[{"kind":"audio","url":"http://`+named+`/rec.mp3"}]}`)
	if status != 201 {
		t.Fatalf("%d %s", status, body)
	}
	var c intake.CaseView
	_ = json.Unmarshal(body, &c)
	// The name is on the list, so the job is queued; it ends cancelled at the address check.
	waitFor(t, "the fetch job to give up", func() bool {
		jobs := g.fetchJobs(t)
		return len(jobs) == 1 && jobs[0].CaseID == c.ID && jobs[0].State == "cancelled"
	})
	if n := recordings.hits.Load(); n != 0 {
		t.Fatalf("the loopback host was requested %d times", n)
	}
	if att := g.caseView(t, c.ID).Attachments[0]; att.URL != "http://"+named+"/rec.mp3" || att.MediaID != "" {
		t.Fatalf("attachment %+v", att)
	}
	if n := g.storedFiles(t); n != 0 {
		t.Fatalf("%d files stored", n)
	}
}

func TestLoopbackRefusedAtDialTimeSQLite(t *testing.T) { runLoopbackRefusedAtDialTime(t, "") }

func TestLoopbackRefusedAtDialTimePostgres(t *testing.T) {
	runLoopbackRefusedAtDialTime(t, pgtest.NewDatabase(t, "", nil))
}
