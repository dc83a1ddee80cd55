package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, to read the tables
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver, to read the tables

	"github.com/hotline12345/intake-gateway/channels/twilio"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
	"github.com/hotline12345/intake-gateway/channels/weibo"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/internal/logging"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

// The bad-input tests send every surface of one assembled gateway — WeChat in plain and safe
// mode, Twilio, Weibo, the two example webhook channels and the REST API — requests built as the
// platform would send them, wrong in one way each, and check after every request that the
// gateway answered 4xx in the surface's own format and that no table of its schema changed.
// Each surface ends with a good request, which must change the tables: the check can see writes.

// badPlain is the plain-mode account. Its AES key is only the sender's: the gateway's channel
// has none, and must refuse what is encrypted with it.
var badPlain = wxtest.Account{Token: "plaintoken2027", AppID: "wx0b1c2d3e4f5a6b7c", GhID: "gh_1a2b3c4d5e6f",
	EncodingAESKey: "kXnZn8rs6oNpBvXaSkHuCynA4LB2ulBk4zlS7r3C3D4"}

const (
	badPublicBase   = "https://hotline.example.gov.cn"
	badTwilioToken  = "0123456789abcdef0123456789abcdef"
	badWeiboSecret  = "9f3c2a7b5e1d4c8a"
	badWeiboUID     = "1902538057"
	badCitySecret   = "cityapp-secret-2026"
	badCountySecret = "county-social-secret-2026"
	badEventsKey    = "bad-events-key"
	// badOpenID is the citizen of every WeChat request: a valid openid, so that each row is wrong
	// only where it means to be.
	badOpenID = "oBadInput0000000000000000001"
	// badWeiboSender is the Weibo citizen.
	badWeiboSender = "2489518277"
)

// badGateway is the assembled gateway and a second connection to its database, to count rows.
type badGateway struct {
	srv   *httptest.Server
	db    *sql.DB
	store string
	seq   atomic.Int64
}

// next returns a number not used before in this gateway: nonces and message ids.
func (g *badGateway) next() int64 { return g.seq.Add(1) }

// assembleBadInputGateway builds the gateway on dbURL (empty: SQLite) with every kind of
// channel, the example webhook channels exactly as configs/webhooks/ ships them.
func assembleBadInputGateway(t *testing.T, dbURL string) *badGateway {
	t.Helper()
	dir := t.TempDir()
	sqlitePath := filepath.Join(dir, "bad.db")
	yaml := fmt.Sprintf(`database: { url: %q, sqlite_path: %q }
log: { level: error }
server: { public_base_url: %q }
# Low enough that a text over the limit fits in every channel's body limit, and a body over the
# REST limit is still small enough for the server to read it all before it answers.
limits: { max_text_chars: 1000, max_body_bytes: 65536 }
# The table sends far more requests than a citizen or a client would: the limits are out of the
# way so that every row is judged on its content.
rate_limits:
  sender: { rate: 1000, burst: 10000 }
  api_key: { rate: 1000, burst: 10000 }
  auth_failures: { rate: 1000, burst: 10000 }
api_keys:
  - { name: crm, sha256: "%s", scopes: [submit, read] }
  - { name: case-system, sha256: "%s", scopes: [events, read] }
channels:
  - { id: wx-plain, type: wechat, app_id: %s, app_secret: secret, token: %s, mode: plain, account_id: %s }
  - { id: wx-safe, type: wechat, app_id: %s, app_secret: secret, token: %s, encoding_aes_key: %s, mode: safe, account_id: %s }
  - { id: sms-main, type: twilio, account_sid: AC0123456789abcdef0123456789abcdef, auth_token: %s, from: "+15005550006" }
  - { id: weibo-main, type: weibo, app_key: "3456789012", app_secret: %s, account_uid: %q }
`, dbURL, sqlitePath, badPublicBase, sha(e2eKey), sha(badEventsKey),
		badPlain.AppID, badPlain.Token, badPlain.GhID,
		e2eAccount.AppID, e2eAccount.Token, e2eAccount.EncodingAESKey, e2eAccount.GhID,
		badTwilioToken, badWeiboSecret, badWeiboUID)
	for _, f := range []string{"cityapp.yaml", "sorted-sha1.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "configs", "webhooks", f))
		if err != nil {
			t.Fatal(err)
		}
		// The channel entries, as they stand under the example's own channels key.
		_, entries, ok := strings.Cut(string(b), "\nchannels:\n")
		if !ok {
			t.Fatalf("%s has no channels list", f)
		}
		yaml += entries
	}
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	// The examples read their secrets from the environment, as an operator's copy would.
	cfg, err := config.Load(path, []string{"CITYAPP_WEBHOOK_SECRET=" + badCitySecret, "COUNTY_SOCIAL_SECRET=" + badCountySecret})
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

	g := &badGateway{srv: srv, store: a.storeKind}
	if dbURL == "" {
		g.db, err = sql.Open("sqlite", "file:"+sqlitePath+"?mode=ro&_pragma=busy_timeout(10000)")
	} else {
		g.db, err = sql.Open("pgx", dbURL)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.db.Close() })
	return g
}

// bookkeeping are the tables that change on their own: River's leader election, queues, clients,
// migrations and notification outbox (which River empties as it pleases), and goose's version
// table. river_job is not among them: a job is a write.
var bookkeeping = []string{"river_leader", "river_queue", "river_client", "river_client_queue", "river_migration",
	"river_notification", "goose_db_version"}

// changesOnTheirOwn are tables whose rows are counted but whose contents are not compared: River
// updates a job's state, attempts and times as workers take it.
var changesOnTheirOwn = []string{"river_job"}

// tables lists the gateway's tables from the database's catalog.
func (g *badGateway) tables(t *testing.T) []string {
	t.Helper()
	q := `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	if g.store == "sqlite" {
		q = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	}
	rows, err := g.db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(bookkeeping, name) {
			out = append(out, name)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// snapshot is every table's row count and, except for changesOnTheirOwn, a digest of its rows
// (so that an update is seen as well as an insert or a delete).
type snapshot map[string]string

func (g *badGateway) snapshot(t *testing.T, tables []string) snapshot {
	t.Helper()
	s := snapshot{}
	for _, table := range tables {
		rows, err := g.db.Query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, fmt.Sprintf("%q", vals))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		entry := fmt.Sprintf("%d rows", len(lines))
		if !slices.Contains(changesOnTheirOwn, table) {
			slices.Sort(lines)
			sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
			entry += ", contents " + hex.EncodeToString(sum[:8])
		}
		s[table] = entry
	}
	return s
}

func (s snapshot) diff(after snapshot) []string {
	var out []string
	for table, before := range s {
		if after[table] != before {
			out = append(out, fmt.Sprintf("%s: %s → %s", table, before, after[table]))
		}
	}
	slices.Sort(out)
	return out
}

// badCase is one request and the refusal it must get.
type badCase struct {
	name   string
	req    func(t *testing.T) *http.Request
	status int
	// want is a part of the plain-text refusal (channels), or the problem type's fragment (REST).
	want string
}

// nonceTable is where the gateway remembers the signatures of requests whose body is not signed.
const nonceTable = "request_nonces"

// allowSignature removes the one change a keepsSignature case makes from d: one more
// row in request_nonces. It reports whether that change was there.
func allowSignature(d []string, before, after snapshot) ([]string, bool) {
	var nb, na int
	fmt.Sscanf(before[nonceTable], "%d rows", &nb)
	fmt.Sscanf(after[nonceTable], "%d rows", &na)
	if na != nb+1 {
		return d, false
	}
	return slices.DeleteFunc(d, func(s string) bool { return strings.HasPrefix(s, nonceTable+":") }), true
}

// answer is a response as read.
type answer struct {
	status int
	header http.Header
	body   string
}

func (g *badGateway) do(t *testing.T, req *http.Request) answer {
	t.Helper()
	res, err := g.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: string(b)}
}

// surface is how one surface refuses: checkRefusal looks at the answer's format.
type surface struct {
	name         string
	cases        []badCase
	checkRefusal func(t *testing.T, c badCase, a answer)
	// keepsSignature names the cases that are correctly signed on a channel whose signature
	// does not cover the body (WeChat plaintext, Weibo, county-social) and refused by the core
	// for their content. The adapter claims the signature in request_nonces before it hands the
	// message to the core, so that a replay cannot create a case; the core's refusal comes
	// after, and the claim stays until the window ends. That row, and only that, is allowed for
	// these cases; when the claim moves behind the core's checks the row must go, and so must
	// the names here.
	keepsSignature []string
	// control sends good requests and checks them; each must change the tables.
	control []func(t *testing.T) answer
	// openCase are bad requests from the citizen of the control's case, sent after it; closing
	// is a last good request, which must change the tables again.
	openCase []badCase
	closing  func(t *testing.T) answer
}

// plainRefusal is how every platform webhook refuses: a short plain-text reason, never a problem
// document, and nothing of the citizen's message or id quoted back.
func plainRefusal(t *testing.T, c badCase, a answer) {
	t.Helper()
	if !strings.HasPrefix(a.header.Get("Content-Type"), "text/plain") {
		t.Errorf("Content-Type %q, want text/plain", a.header.Get("Content-Type"))
	}
	if !strings.Contains(a.body, c.want) {
		t.Errorf("refusal %.200q does not say %q", a.body, c.want)
	}
	for _, secret := range []string{"路灯", badOpenID, badWeiboSender, "13800138000"} {
		if strings.Contains(a.body, secret) {
			t.Errorf("refusal %.200q quotes the request (%s)", a.body, secret)
		}
	}
}

// problemRefusal is how the REST API refuses: problem+json with the type named.
func problemRefusal(t *testing.T, c badCase, a answer) {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal([]byte(a.body), &p); err != nil {
		t.Fatalf("not a problem document: %v\n%s", err, a.body)
	}
	if p.Status != a.status || p.Title == "" || !strings.HasSuffix(p.Type, "#"+c.want) {
		t.Errorf("problem %s, want type #%s and status %d", a.body, c.want, a.status)
	}
}

func runBadInput(t *testing.T, g *badGateway) {
	tables := g.tables(t)
	for _, want := range []string{"cases", "river_job"} {
		if !slices.Contains(tables, want) {
			t.Fatalf("tables %v lack %s: the catalog query does not see the gateway's schema", tables, want)
		}
	}
	t.Logf("%s: comparing %d tables: %s", g.store, len(tables), strings.Join(tables, ", "))
	for _, s := range []surface{wechatSurface(g), twilioSurface(g), weiboSurface(g), webhookSurface(g), restSurface(g)} {
		t.Run(s.name, func(t *testing.T) {
			if len(s.cases) < 40 {
				t.Errorf("%d bad requests; the table is meant to have at least 40", len(s.cases))
			}
			before := g.snapshot(t, tables)
			refuse := func(c badCase) {
				t.Run(c.name, func(t *testing.T) {
					a := g.do(t, c.req(t))
					if a.status != c.status || a.status < 400 || a.status > 499 {
						t.Errorf("status %d, want %d: %.300q", a.status, c.status, a.body)
					}
					s.checkRefusal(t, c, a)
					after := g.snapshot(t, tables)
					d := before.diff(after)
					if slices.Contains(s.keepsSignature, strings.TrimPrefix(c.name, "with an open case: ")) {
						var remembered bool
						if d, remembered = allowSignature(d, before, after); !remembered {
							t.Errorf("the signature was not remembered: if the claim now follows the core's checks, drop the case from keepsSignature")
						}
					}
					if len(d) > 0 {
						t.Errorf("a refused request changed the store:\n%s", strings.Join(d, "\n"))
					}
					before = after
				})
			}
			accept := func(i int, good func(t *testing.T) answer) {
				good(t)
				after := g.snapshot(t, tables)
				if d := before.diff(after); len(d) == 0 {
					t.Errorf("good request %d changed no table: the check cannot see writes", i+1)
				}
				before = after
			}
			for _, c := range s.cases {
				refuse(c)
			}
			for i, good := range s.control {
				accept(i, good)
			}
			// The citizen now has an open case, which the next messages would join as
			// supplements: a path that does not go through the checks of a new case.
			for _, c := range s.openCase {
				c.name = "with an open case: " + c.name
				refuse(c)
			}
			if s.closing != nil {
				accept(len(s.control), s.closing)
			}
			good := len(s.control)
			if s.closing != nil {
				good++
			}
			t.Logf("%s: %d bad requests, %d of them again with an open case, %d good", s.name, len(s.cases), len(s.openCase), good)
		})
	}
}

func TestBadInputChangesNothingSQLite(t *testing.T) {
	runBadInput(t, assembleBadInputGateway(t, ""))
}

func TestBadInputChangesNothingPostgres(t *testing.T) {
	runBadInput(t, assembleBadInputGateway(t, pgtest.NewDatabase(t, "", nil)))
}

// Record checks.

// getCase reads a case as the hotline system sees it.
func (g *badGateway) getCase(t *testing.T, ref string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.srv.URL+"/v1/cases/"+url.PathEscape(ref), nil)
	req.Header.Set("Authorization", "Bearer "+e2eKey)
	a := g.do(t, req)
	if a.status != 200 {
		t.Fatalf("GET case %s: %d %s", ref, a.status, a.body)
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(a.body), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// checkClean fails for any control or format character other than newline and tab in any
// string of the record, original_text (what arrived, kept as it was) aside; want names fields
// that must be present, so that a field left out is not taken for a clean one.
func checkClean(t *testing.T, c map[string]any, want ...string) {
	t.Helper()
	seen := map[string]bool{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(strings.TrimPrefix(path+"."+k, "."), x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), x)
			}
		case string:
			seen[path] = v != ""
			if path == "content.original_text" {
				return
			}
			if strings.ContainsFunc(v, func(r rune) bool {
				return r != '\n' && r != '\t' && (unicode.IsControl(r) || (unicode.Is(unicode.Cf, r) && r != '\u200d'))
			}) {
				t.Errorf("%s = %q keeps a control character", path, v)
			}
		}
	}
	walk("", c)
	for _, f := range want {
		if !seen[f] {
			t.Errorf("the record has no %s", f)
		}
	}
}

// caseNoIn finds the case number in a reply text.
func caseNoIn(t *testing.T, reply string) string {
	t.Helper()
	i := strings.Index(reply, "WH")
	if i < 0 || len(reply) < i+15 {
		t.Fatalf("no case number in %q", reply)
	}
	return reply[i : i+15]
}

// WeChat.

// wxDoc builds a message XML: the default text message with fields replaced ("-" removes one)
// and others appended, in order.
func wxDoc(gh string, createTime int64, msgID int64, set ...string) string {
	fields := [][2]string{
		{"ToUserName", "<![CDATA[" + gh + "]]>"},
		{"FromUserName", "<![CDATA[" + badOpenID + "]]>"},
		{"CreateTime", strconv.FormatInt(createTime, 10)},
		{"MsgType", "<![CDATA[text]]>"},
		{"Content", "<![CDATA[小区门口路灯坏了]]>"},
		{"MsgId", strconv.FormatInt(msgID, 10)},
	}
	for i := 0; i+1 < len(set); i += 2 {
		k, v := set[i], set[i+1]
		j := slices.IndexFunc(fields, func(f [2]string) bool { return f[0] == k })
		switch {
		case j >= 0 && v == "-":
			fields = slices.Delete(fields, j, j+1)
		case j >= 0:
			fields[j][1] = v
		default:
			fields = append(fields, [2]string{k, v})
		}
	}
	var b strings.Builder
	b.WriteString("<xml>")
	for _, f := range fields {
		b.WriteString("<" + f[0] + ">" + f[1] + "</" + f[0] + ">")
	}
	b.WriteString("</xml>")
	return b.String()
}

// wxPush is a request to a WeChat channel: build gets the timestamp and nonce the request is
// signed with and returns the request description.
func (g *badGateway) wxPush(acct wxtest.Account, channel string, build func(ts, nonce string) wxtest.Request) func(t *testing.T) *http.Request {
	return func(t *testing.T) *http.Request {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		nonce := strconv.FormatInt(g.next(), 10)
		r := build(ts, nonce)
		if r.Timestamp == "" {
			r.Timestamp = ts
		}
		if r.Nonce == "" {
			r.Nonce = nonce
		}
		req, err := acct.Build(g.srv.URL+"/hooks/wechat/"+channel, r)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
}

func wechatSurface(g *badGateway) surface {
	now := func() int64 { return time.Now().Unix() }
	plain := func(set ...string) func(t *testing.T) *http.Request {
		return g.wxPush(badPlain, "wx-plain", func(string, string) wxtest.Request {
			return wxtest.Request{Body: wxDoc(badPlain.GhID, now(), g.next(), set...)}
		})
	}
	safe := func(set ...string) func(t *testing.T) *http.Request {
		return g.wxPush(e2eAccount, "wx-safe", func(string, string) wxtest.Request {
			return wxtest.Request{Safe: true, Body: wxDoc(e2eAccount.GhID, now(), g.next(), set...)}
		})
	}
	plainReq := func(r func(ts, nonce string) wxtest.Request) func(t *testing.T) *http.Request {
		return g.wxPush(badPlain, "wx-plain", r)
	}
	safeReq := func(r func(ts, nonce string) wxtest.Request) func(t *testing.T) *http.Request {
		return g.wxPush(e2eAccount, "wx-safe", r)
	}
	text := func(ts, nonce string) string { return wxDoc(badPlain.GhID, now(), g.next()) }
	sealed := func(t *testing.T, acct wxtest.Account, appID, doc string) *string {
		enc, err := wxtest.Seal(acct.EncodingAESKey, appID, make([]byte, 16), []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return &enc
	}
	withEncrypt := func(enc func(t *testing.T) *string) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			e := enc(t)
			return safeReq(func(string, string) wxtest.Request { return wxtest.Request{Safe: true, EncryptOverride: e} })(t)
		}
	}
	big := "<![CDATA[" + strings.Repeat("长", 64<<10/3+1) + "]]>"
	overLimit := "<![CDATA[" + strings.Repeat("很", 1001) + "]]>"
	media := func(msgType string, extra ...string) []string {
		return append([]string{"MsgType", msgType, "Content", "-"}, extra...)
	}
	cases := []badCase{
		// Authentication.
		{"missing signature", plainReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Body: text(ts, n), Delete: []string{"signature"}}
		}), 403, "missing signature"},
		{"signature with another token", plainReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Body: text(ts, n), Query: map[string]string{"signature": wxtest.Sign("not-the-token", ts, n)}}
		}), 403, "invalid signature"},
		{"signature in upper case", plainReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Body: text(ts, n), Query: map[string]string{"signature": strings.ToUpper(wxtest.Sign(badPlain.Token, ts, n))}}
		}), 403, "invalid signature"},
		{"signature over another nonce", plainReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Body: text(ts, n), Query: map[string]string{"nonce": "x" + n}}
		}), 403, "invalid signature"},
		{"missing timestamp", plainReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Body: text(ts, n), Delete: []string{"timestamp"}}
		}), 400, "missing timestamp"},
		{"missing nonce", plainReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Body: text(ts, n), Delete: []string{"nonce"}}
		}), 400, "missing nonce"},
		{"timestamp in milliseconds", plainReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Body: text(ts, n), Timestamp: ts + "000"}
		}), 400, "invalid timestamp"},
		{"stale timestamp", plainReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Body: text(ts, n), Timestamp: strconv.FormatInt(now()-301, 10)}
		}), 403, "outside the allowed window"},
		{"timestamp from the future", plainReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Body: text(ts, n), Timestamp: strconv.FormatInt(now()+301, 10)}
		}), 403, "outside the allowed window"},
		{"URL check with a wrong signature", plainReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Method: http.MethodGet, EchoStr: "1", Query: map[string]string{"signature": "0000"}}
		}), 403, "invalid signature"},

		// Safe mode and ciphertexts.
		{"safe: plaintext push", safeReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Body: wxDoc(e2eAccount.GhID, now(), g.next())}
		}), 403, "safe mode"},
		{"safe: missing msg_signature", safeReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Safe: true, Body: wxDoc(e2eAccount.GhID, now(), g.next()), Delete: []string{"msg_signature"}}
		}), 403, "missing msg_signature"},
		{"safe: msg_signature without the ciphertext", safeReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Safe: true, Body: wxDoc(e2eAccount.GhID, now(), g.next()), Query: map[string]string{"msg_signature": wxtest.Sign(e2eAccount.Token, ts, n)}}
		}), 403, "invalid msg_signature"},
		{"safe: ciphertext not base64", withEncrypt(func(*testing.T) *string { s := "@@@@"; return &s }), 400, "base64"},
		{"safe: sealed for another AppID", withEncrypt(func(t *testing.T) *string {
			return sealed(t, e2eAccount, "wx0000000000000000", wxDoc(e2eAccount.GhID, now(), g.next()))
		}), 403, "another AppID"},
		{"safe: DOCTYPE inside the ciphertext", withEncrypt(func(t *testing.T) *string {
			return sealed(t, e2eAccount, e2eAccount.AppID, `<!DOCTYPE xml [<!ENTITY e "x">]>`+wxDoc(e2eAccount.GhID, now(), g.next()))
		}), 400, "DOCTYPE"},
		{"safe: invalid UTF-8 inside the ciphertext", withEncrypt(func(t *testing.T) *string {
			return sealed(t, e2eAccount, e2eAccount.AppID, wxDoc(e2eAccount.GhID, now(), g.next(), "Content", "<![CDATA[路灯\xff\xfe]]>"))
		}), 400, "malformed XML"},
		{"safe: envelope is not XML", safeReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Safe: true, Body: wxDoc(e2eAccount.GhID, now(), g.next()), Envelope: "Encrypt=abc"}
		}), 400, "XML"},
		{"plain channel: encrypted push", plainReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Safe: true, Body: text(ts, n)}
		}), 400, "no encoding_aes_key"},

		// The body.
		{"empty body", plainReq(func(string, string) wxtest.Request { return wxtest.Request{} }), 400, "empty body"},
		{"unclosed element", plainReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Body: strings.TrimSuffix(text(ts, n), "</xml>")}
		}), 400, "malformed XML"},
		{"two roots", plainReq(func(ts, n string) wxtest.Request { return wxtest.Request{Body: text(ts, n) + text(ts, n)} }), 400, "more than one root"},
		{"JSON body", plainReq(func(string, string) wxtest.Request {
			return wxtest.Request{Body: `{"ToUserName":"gh_1a2b3c4d5e6f","MsgType":"text","Content":"路灯"}`}
		}), 400, "malformed XML"},
		{"duplicate element", plain("Content", "<![CDATA[路灯坏了]]></Content><Content><![CDATA[另一段]]>"), 400, "twice"},
		{"DOCTYPE with an internal entity", plainReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Body: `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x "路灯">]>` + wxDoc(badPlain.GhID, now(), g.next(), "Content", "&x;")}
		}), 400, "DOCTYPE"},
		{"external entity", plainReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Body: `<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + wxDoc(badPlain.GhID, now(), g.next(), "Content", "&xxe;")}
		}), 400, "DOCTYPE"},
		{"GBK declared", plainReq(func(ts, n string) wxtest.Request {
			return wxtest.Request{Body: `<?xml version="1.0" encoding="GBK"?>` + text(ts, n)}
		}), 400, "malformed XML"},
		{"invalid UTF-8", plain("Content", "<![CDATA[路灯\xff\xfe]]>"), 400, "malformed XML"},
		{"a control character XML forbids", plain("Content", "<![CDATA[路灯\x1b[31m]]>"), 400, "malformed XML"},
		{"body over 64 KiB", plain("Content", big), 413, "too large"},

		// Fields, correctly signed.
		{"ToUserName of another account", plain("ToUserName", "<![CDATA[gh_ffffffffffff]]>"), 403, "not this account"},
		{"safe: ToUserName of another account", safe("ToUserName", "<![CDATA[gh_ffffffffffff]]>"), 403, "not this account"},
		{"missing FromUserName", plain("FromUserName", "-"), 400, "FromUserName"},
		{"FromUserName with spaces", plain("FromUserName", "o bad"), 400, "FromUserName"},
		{"missing CreateTime", plain("CreateTime", "-"), 400, "CreateTime"},
		{"CreateTime not a number", plain("CreateTime", "2026-11-27"), 400, "CreateTime"},
		{"CreateTime before 2000", plain("CreateTime", "946684799"), 400, "CreateTime before 2000"},
		{"CreateTime of one second", plain("CreateTime", "1"), 400, "CreateTime before 2000"},
		{"safe: CreateTime before 2000", safe("CreateTime", "946684799"), 400, "CreateTime before 2000"},
		{"subscribe event before 2000", plain("CreateTime", "946684799", "MsgType", "<![CDATA[event]]>", "Content", "-", "MsgId", "-", "Event", "<![CDATA[subscribe]]>"), 400, "CreateTime before 2000"},
		{"unsubscribe event before 2000", plain("CreateTime", "946684799", "MsgType", "<![CDATA[event]]>", "Content", "-", "MsgId", "-", "Event", "<![CDATA[unsubscribe]]>"), 400, "CreateTime before 2000"},
		{"LOCATION event before 2000", plain("CreateTime", "946684799", "MsgType", "<![CDATA[event]]>", "Content", "-", "MsgId", "-", "Event", "<![CDATA[LOCATION]]>", "Latitude", "37.5", "Longitude", "122.1", "Precision", "30"), 400, "CreateTime before 2000"},
		{"missing MsgType", plain("MsgType", "-"), 400, "MsgType"},
		{"missing MsgId", plain("MsgId", "-"), 400, "MsgId"},
		{"MsgId zero", plain("MsgId", "0"), 400, "MsgId"},
		{"MsgId negative", plain("MsgId", "-24312345678901234"), 400, "MsgId"},
		{"safe: MsgId zero", safe("MsgId", "0"), 400, "MsgId"},
		{"MsgId not a number", plain("MsgId", "msg-1"), 400, "MsgId"},
		{"empty text", plain("Content", "<![CDATA[]]>"), 400, "empty text"},
		{"blank text", plain("Content", "<![CDATA[ \n\t　]]>"), 400, "empty text"},
		{"image with an https PicUrl but no MediaId", plain(media("image", "PicUrl", "https://mmbiz.qpic.cn/mmbiz_jpg/x/0")...), 400, "missing MediaId"},
		{"image with a javascript: PicUrl and no MediaId", plain(media("image", "PicUrl", "javascript:alert(1)")...), 400, "missing MediaId"},
		{"safe: image without MediaId", safe(media("image", "PicUrl", "https://mmbiz.qpic.cn/mmbiz_jpg/x/0")...), 400, "missing MediaId"},
		{"image with a MediaId holding spaces", plain(media("image", "PicUrl", "https://mmbiz.qpic.cn/x", "MediaId", "a b")...), 400, "invalid MediaId"},
		{"voice without MediaId", plain(media("voice", "Format", "amr", "Recognition", "路灯坏了")...), 400, "missing MediaId"},
		{"video without MediaId", plain(media("video", "ThumbMediaId", "thumb1")...), 400, "missing MediaId"},
		{"shortvideo without MediaId", plain(media("shortvideo", "ThumbMediaId", "thumb1")...), 400, "missing MediaId"},
		{"location out of range", plain(media("location", "Location_X", "137.5", "Location_Y", "122.1", "Scale", "15", "Label", "文化中路")...), 400, "Location_X"},
		{"location not a number", plain(media("location", "Location_X", "NaN", "Location_Y", "122.1")...), 400, "Location_X"},
		{"LOCATION event without coordinates", plain("MsgType", "<![CDATA[event]]>", "Content", "-", "MsgId", "-", "Event", "<![CDATA[LOCATION]]>"), 400, "Latitude"},
		{"event without Event", plain("MsgType", "<![CDATA[event]]>", "Content", "-", "MsgId", "-"), 400, "Event"},
		{"empty link", plain(media("link")...), 400, "empty link"},

		// Content the core refuses, correctly signed (safe mode: the signature covers the body).
		{"safe: text over max_text_chars", safe("Content", overLimit), 400, "invalid submission"},
		{"plaintext: text over max_text_chars", plain("Content", overLimit), 400, "invalid submission"},
		{"safe: text of control and format characters only", safe("Content", "<![CDATA[\u0085\u009b\u200b\u2060]]>"), 400, "invalid submission"},
		{"safe: CreateTime a day ahead", safe("CreateTime", strconv.FormatInt(now()+86400, 10)), 400, "invalid submission"},
	}
	var caseNo string
	return surface{
		name: "wechat", cases: cases, checkRefusal: plainRefusal,
		keepsSignature: []string{"plaintext: text over max_text_chars", "plaintext: text of control and format characters only"},
		control: []func(t *testing.T) answer{
			func(t *testing.T) answer {
				a := g.do(t, plain("Content", "<![CDATA[新问题 小区门口路灯\u009b31m坏了\u200b]]>")(t))
				if a.status != 200 || !strings.Contains(a.body, "工单编号") {
					t.Fatalf("good text: %d %s", a.status, a.body)
				}
				caseNo = caseNoIn(t, a.body)
				return a
			},
			func(t *testing.T) answer {
				// The location that follows joins the case as a supplement: its label is the
				// case's address, cleaned like text although it never goes through Build.
				a := g.do(t, plain(media("location", "Location_X", "37.5131", "Location_Y", "122.1204", "Scale", "15",
					"Label", "<![CDATA[环翠区\u009b31m文化中路\u200b]]>")...)(t))
				if a.status != 200 || !strings.Contains(a.body, caseNo) {
					t.Fatalf("good location: %d %s", a.status, a.body)
				}
				c := g.getCase(t, caseNo)
				checkClean(t, c, "content.text", "location.address")
				if addr := c["location"].(map[string]any)["address"]; addr != "环翠区31m文化中路" {
					t.Errorf("address %q", addr)
				}
				return a
			},
		},
		openCase: []badCase{
			{"plaintext: text of control and format characters only", plain("Content", "<![CDATA[\u0085\u009b\u200b\u2060]]>"), 400, "invalid submission"},
			{"plaintext: text over max_text_chars", plain("Content", overLimit), 400, "invalid submission"},
			{"CreateTime before 2000", plain("CreateTime", "946684799"), 400, "CreateTime before 2000"},
			{"MsgId zero", plain("MsgId", "0"), 400, "MsgId"},
			{"image without MediaId", plain(media("image", "PicUrl", "https://mmbiz.qpic.cn/mmbiz_jpg/x/0")...), 400, "missing MediaId"},
			{"voice without MediaId", plain(media("voice", "Format", "amr", "Recognition", "路灯坏了")...), 400, "missing MediaId"},
		},
		closing: func(t *testing.T) answer {
			a := g.do(t, plain("Content", "<![CDATA[晚上更暗了]]>")(t))
			if a.status != 200 || !strings.Contains(a.body, caseNo) || !strings.Contains(a.body, "补充") {
				t.Fatalf("good supplement: %d %s", a.status, a.body)
			}
			return a
		},
	}
}

// Twilio.

func (g *badGateway) twilioPost(route, body, signedFor string, sign func(string, string) string, mods ...func(*http.Request)) func(t *testing.T) *http.Request {
	return func(t *testing.T) *http.Request {
		req, err := http.NewRequest(http.MethodPost, g.srv.URL+route, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sig := sign(signedFor, body); sig != "" {
			req.Header.Set(twilio.SignatureHeader, sig)
		}
		for _, m := range mods {
			m(req)
		}
		return req
	}
}

// twilioSigned signs a form body as Twilio does (the URL Twilio called, then the parameters).
func twilioSigned(token string) func(rawURL, body string) string {
	return func(rawURL, body string) string {
		form, err := url.ParseQuery(body)
		if err != nil {
			// A body that is no form is signed as Twilio would sign what it meant to send: no
			// parameters. The gateway must refuse it before the signature matters.
			form = url.Values{}
		}
		return twilio.Signature(token, rawURL, form)
	}
}

func twilioSurface(g *badGateway) surface {
	const smsPath = "/hooks/twilio/sms-main/sms"
	sid := func() string { return fmt.Sprintf("SM%032x", g.next()) }
	form := func(kv ...string) string {
		v := url.Values{"MessageSid": {sid()}, "AccountSid": {"AC0123456789abcdef0123456789abcdef"}, "From": {"+8613800138000"},
			"To": {"+15005550006"}, "Body": {"小区门口路灯坏了"}, "NumMedia": {"0"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "-" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v.Encode()
	}
	signed := twilioSigned(badTwilioToken)
	post := func(body string, mods ...func(*http.Request)) func(t *testing.T) *http.Request {
		return g.twilioPost(smsPath, body, badPublicBase+smsPath, signed, mods...)
	}
	// raw signs the parameters of good but sends body: what arrives is not what was signed.
	raw := func(body, good string) func(t *testing.T) *http.Request {
		return g.twilioPost(smsPath, body, badPublicBase+smsPath, func(u, _ string) string { return signed(u, good) })
	}
	signedAs := func(body, rawURL string, sign func(string, string) string) func(t *testing.T) *http.Request {
		return g.twilioPost(smsPath, body, rawURL, sign)
	}
	jsonPost := func(body string, sig func(t *testing.T, rawURL string) string) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			sum := sha256.Sum256([]byte(body))
			target := smsPath + "?bodySHA256=" + hex.EncodeToString(sum[:])
			req, err := http.NewRequest(http.MethodPost, g.srv.URL+target, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(twilio.SignatureHeader, sig(t, badPublicBase+target))
			return req
		}
	}
	jsonSigned := func(t *testing.T, rawURL string) string { return twilio.Signature(badTwilioToken, rawURL, nil) }
	mms := func(kv ...string) string {
		return form(append([]string{"Body", "", "NumMedia", "2", "MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
			"MediaContentType0", "image/jpeg", "MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2", "MediaContentType1", "image/png"}, kv...)...)
	}
	good := form()
	cases := []badCase{
		// Authentication.
		{"no signature", g.twilioPost(smsPath, good, "", func(string, string) string { return "" }), 403, "missing X-Twilio-Signature"},
		{"wrong signature", g.twilioPost(smsPath, good, "", func(string, string) string { return "Smm+nv5Ak2fiye+xrGzPysxbCxs=" }), 403, "does not match"},
		{"signed with another token", signedAs(good, badPublicBase+smsPath, twilioSigned("00000000000000000000000000000000")), 403, "does not match"},
		{"signed for another channel", signedAs(good, badPublicBase+"/hooks/twilio/sms-other/sms", signed), 403, "does not match"},
		{"signed for another host", signedAs(good, "https://evil.example"+smsPath, signed), 403, "does not match"},
		{"signed for the gateway's own address", signedAs(good, g.srv.URL+smsPath, signed), 403, "does not match"},
		{"signed for the status route", signedAs(good, badPublicBase+"/hooks/twilio/sms-main/status", signed), 403, "does not match"},
		{"body changed after signing", raw(strings.Replace(good, "From=%2B8613800138000", "From=%2B8613911112222", 1), good), 403, "does not match"},
		{"parameter added after signing", raw(good+"&Extra=1", good), 403, "does not match"},
		{"JSON body not matching bodySHA256", func(t *testing.T) *http.Request {
			r := jsonPost(`{"MessageSid":"`+sid()+`","From":"+8613800138000","Body":"小区门口路灯坏了"}`, jsonSigned)(t)
			r.Body = io.NopCloser(strings.NewReader(`{"MessageSid":"` + sid() + `","From":"+8613911112222","Body":"别的"}`))
			r.ContentLength = -1
			return r
		}, 403, "bodySHA256"},

		// The form, correctly signed.
		{"missing From", post(form("From", "-")), 400, "From is required"},
		{"empty From", post(form("From", "")), 400, "From is required"},
		{"From too long", post(form("From", strings.Repeat("1", 65))), 400, "From is too long"},
		{"missing MessageSid", post(form("MessageSid", "-")), 400, "MessageSid is required"},
		{"MessageSid not an id", post(form("MessageSid", "SM/../9a8b")), 400, "not a Twilio identifier"},
		{"MessageSid with spaces", post(form("MessageSid", "SM 1")), 400, "not a Twilio identifier"},
		{"repeated From", post(good + "&From=%2B8613911112222"), 400, "From is repeated"},
		{"repeated Body", post(good + "&Body=%E5%8F%A6"), 400, "Body is repeated"},
		{"repeated MessageSid", post(good + "&MessageSid=" + sid()), 400, "MessageSid is repeated"},
		{"NumMedia above the URLs", post(mms("NumMedia", "3")), 400, "MediaUrl2 is missing"},
		{"NumMedia below the URLs", post(mms("NumMedia", "1")), 400, "disagrees with NumMedia=1"},
		{"media without NumMedia", post(mms("NumMedia", "-")), 400, "disagrees with NumMedia=0"},
		{"NumMedia not a number", post(form("NumMedia", "zero")), 400, "NumMedia"},
		{"NumMedia negative", post(form("NumMedia", "-1")), 400, "NumMedia"},
		{"NumMedia above ten", post(form("NumMedia", "11")), 400, "NumMedia"},
		{"NumMedia with a leading zero", post(form("NumMedia", "01")), 400, "NumMedia"},
		{"media index with a leading zero", post(strings.Replace(mms(), "MediaUrl1=", "MediaUrl01=", 1)), 400, "MediaUrl01"},
		{"media URL file:", post(mms("MediaUrl0", "file:///etc/passwd")), 400, "not an absolute http(s) URL"},
		{"media URL javascript:", post(mms("MediaUrl0", "javascript:alert(1)")), 400, "not an absolute http(s) URL"},
		{"media URL relative", post(mms("MediaUrl0", "/Media/ME1")), 400, "not an absolute http(s) URL"},
		{"media content type too long", post(mms("MediaContentType0", "image/"+strings.Repeat("x", 130))), 400, "MediaContentType0 is too long"},
		{"FromCity too long", post(form("FromCity", strings.Repeat("威", 201))), 400, "FromCity is too long"},
		{"invalid UTF-8 in Body", post(strings.Replace(good, "Body=%E5%B0%8F", "Body=%FF%FE", 1)), 400, "not valid UTF-8"},
		{"invalid UTF-8 in From", post(form("From", "+86138\xff")), 400, "not valid UTF-8"},
		{"invalid UTF-8 in FromCity", post(form("FromCity", "WEI\xc0HAI")), 400, "not valid UTF-8"},
		{"invalid UTF-8 in a name", post(good + "&%C3%28=1"), 400, "not valid UTF-8"},
		{"broken form encoding", raw(good+"&Body=%zz", good), 400, "form encoding"},
		{"body over the limit", post(good + "&Pad=" + strings.Repeat("x", 70000)), 413, "exceeds"},
		{"body over the limit without a length", post(good+"&Pad="+strings.Repeat("x", 70000), func(r *http.Request) {
			r.ContentLength = -1
			r.Body = io.NopCloser(r.Body)
		}), 413, "exceeds"},

		// The bodySHA256 JSON variant, correctly signed.
		{"JSON with a duplicate member", jsonPost(`{"MessageSid":"SM00000000000000000000000000000abc","From":"+8613800138000","Body":"小区门口路灯坏了","Body":"另一段","NumMedia":"0"}`, jsonSigned), 400, "appears twice"},
		{"JSON with invalid UTF-8", jsonPost("{\"MessageSid\":\"SM00000000000000000000000000000abd\",\"From\":\"+8613800138000\",\"Body\":\"路灯\xff\"}", jsonSigned), 400, "not valid UTF-8"},
		{"JSON with a nested value", jsonPost(`{"MessageSid":"SM00000000000000000000000000000abe","From":"+8613800138000","Body":{"text":"路灯"}}`, jsonSigned), 400, "nested values"},
		{"JSON not an object", jsonPost(`["MessageSid"]`, jsonSigned), 400, "not a JSON object"},

		// Content the core refuses, correctly signed.
		{"blank Body", post(form("Body", " \u3000 ")), 400, "invalid submission"},
		{"Body of control characters only", post(form("Body", "\x1b\x07\u200b")), 400, "invalid submission"},
		{"Body over max_text_chars", post(form("Body", strings.Repeat("很", 1001))), 400, "invalid submission"},
	}
	return surface{
		name: "twilio", cases: cases, checkRefusal: plainRefusal,
		control: []func(t *testing.T) answer{func(t *testing.T) answer {
			// The structured form: the name and address become the record's, cleaned like text.
			a := g.do(t, post(form("From", "+8613800138001", "Body", "12345#王\x1b[31m女士#环翠区\x07文化中路\u200b#小区门口路灯\x00坏了", "FromCity", "WEI\x1bHAI"))(t))
			if a.status != 200 || !strings.Contains(a.body, "工单编号") {
				t.Fatalf("good SMS: %d %s", a.status, a.body)
			}
			c := g.getCase(t, caseNoIn(t, a.body))
			checkClean(t, c, "citizen.name", "location.address", "content.text", "metadata.from_city")
			return a
		}},
		openCase: []badCase{
			{"blank Body", post(form("From", "+8613800138001", "Body", " \u3000 ")), 400, "invalid submission"},
			{"Body of control characters only", post(form("From", "+8613800138001", "Body", "\x1b\x07\u200b")), 400, "invalid submission"},
			{"Body over max_text_chars", post(form("From", "+8613800138001", "Body", strings.Repeat("很", 1001))), 400, "invalid submission"},
			{"invalid UTF-8 in Body", post(form("From", "+8613800138001", "Body", "路灯\xff")), 400, "not valid UTF-8"},
		},
		closing: func(t *testing.T) answer {
			a := g.do(t, post(form("From", "+8613800138001", "Body", "晚上更暗了"))(t))
			if a.status != 200 || !strings.Contains(a.body, "补充") {
				t.Fatalf("good supplement: %d %s", a.status, a.body)
			}
			return a
		},
	}
}

// Weibo.

func weiboDoc(typ, text, data string, created time.Time) string {
	t, _ := json.Marshal(text)
	return `{"type":"` + typ + `","receiver_id":` + badWeiboUID + `,"sender_id":` + badWeiboSender +
		`,"created_at":"` + created.Format(time.RubyDate) + `","text":` + string(t) + `,"data":` + data + `}`
}

// weiboPost is a push signed as Weibo signs it; query changes the query after signing.
func (g *badGateway) weiboPost(body func() string, query func(q url.Values, ts, nonce string)) func(t *testing.T) *http.Request {
	return func(t *testing.T) *http.Request {
		ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
		nonce := strconv.FormatInt(g.next(), 10)
		q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "signature": {weibo.Signature(badWeiboSecret, ts, nonce)}}
		if query != nil {
			query(q, ts, nonce)
		}
		method, b := http.MethodPost, body()
		var rd io.Reader = strings.NewReader(b)
		if b == "GET" {
			method, rd = http.MethodGet, nil
			if !q.Has("echostr") {
				q.Set("echostr", "x")
			}
		}
		req, err := http.NewRequest(method, g.srv.URL+"/hooks/weibo/weibo-main?"+q.Encode(), rd)
		if err != nil {
			t.Fatal(err)
		}
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/json")
		}
		return req
	}
}

func weiboSurface(g *badGateway) surface {
	now := time.Now
	textPush := func() string { return weiboDoc("text", "小区门口路灯坏了", "{}", now()) }
	push := func(body func() string) func(t *testing.T) *http.Request { return g.weiboPost(body, nil) }
	edit := func(old, new string) func(t *testing.T) *http.Request {
		return push(func() string { return strings.Replace(textPush(), old, new, 1) })
	}
	doc := func(typ, text, data string) func(t *testing.T) *http.Request {
		return push(func() string { return weiboDoc(typ, text, data, now()) })
	}
	query := func(f func(q url.Values, ts, nonce string)) func(t *testing.T) *http.Request {
		return g.weiboPost(textPush, f)
	}
	old := time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)
	cases := []badCase{
		// Authentication.
		{"missing signature", query(func(q url.Values, _, _ string) { q.Del("signature") }), 403, "missing signature"},
		{"signed with another secret", query(func(q url.Values, ts, n string) { q.Set("signature", weibo.Signature("not-the-secret", ts, n)) }), 403, "invalid signature"},
		{"signed with the app key", query(func(q url.Values, ts, n string) { q.Set("signature", weibo.Signature("3456789012", ts, n)) }), 403, "invalid signature"},
		{"signature in upper case", query(func(q url.Values, ts, n string) {
			q.Set("signature", strings.ToUpper(weibo.Signature(badWeiboSecret, ts, n)))
		}), 403, "invalid signature"},
		{"signature over another nonce", query(func(q url.Values, _, n string) { q.Set("nonce", "x"+n) }), 403, "invalid signature"},
		{"missing timestamp", query(func(q url.Values, _, _ string) { q.Del("timestamp") }), 400, "missing timestamp"},
		{"missing nonce", query(func(q url.Values, _, _ string) { q.Del("nonce") }), 400, "missing nonce"},
		{"timestamp not a number", query(func(q url.Values, ts, _ string) { q.Set("timestamp", ts[:5]+"x"+ts[6:]) }), 400, "invalid timestamp"},
		{"timestamp in seconds", query(func(q url.Values, ts, n string) {
			q.Set("timestamp", ts[:len(ts)-3])
			q.Set("signature", weibo.Signature(badWeiboSecret, ts[:len(ts)-3], n))
		}), 403, "outside the allowed window"},
		{"stale timestamp", query(func(q url.Values, _, n string) {
			ts := strconv.FormatInt(now().Add(-301*time.Second).UnixMilli(), 10)
			q.Set("timestamp", ts)
			q.Set("signature", weibo.Signature(badWeiboSecret, ts, n))
		}), 403, "outside the allowed window"},
		{"URL check without echostr", g.weiboPost(func() string { return "GET" }, func(q url.Values, _, _ string) { q.Set("echostr", "") }), 400, "echostr"},

		// The body, correctly signed.
		{"empty body", push(func() string { return "" }), 400, "malformed JSON"},
		{"not JSON", push(func() string { return "<xml><MsgType>text</MsgType></xml>" }), 400, "malformed JSON"},
		{"truncated JSON", push(func() string { p := textPush(); return p[:len(p)-1] }), 400, "malformed JSON"},
		{"two documents", push(func() string { return textPush() + textPush() }), 400, "data after the document"},
		{"an array", push(func() string { return "[" + textPush() + "]" }), 400, "malformed JSON"},
		{"duplicate type", edit(`"type":"text"`, `"type":"text","type":"event"`), 400, "appears twice"},
		{"duplicate text", edit(`"text":"小区门口路灯坏了"`, `"text":"小区门口路灯坏了","text":"另一段"`), 400, "appears twice"},
		{"duplicate sender_id", edit(`"sender_id":`+badWeiboSender, `"sender_id":`+badWeiboSender+`,"sender_id":2489518278`), 400, "appears twice"},
		{"duplicate member inside data", doc("image", "", `{"tovfid":821804469,"tovfid":821804470}`), 400, "appears twice"},
		{"invalid UTF-8 in text", edit("路灯", "\xff\xfe"), 400, "not valid UTF-8"},
		{"surrogate half in text", edit("路灯", "\xed\xa0\x80"), 400, "not valid UTF-8"},
		{"body over 64 KiB", doc("text", strings.Repeat("长", 64<<10/3+1), "{}"), 413, "too large"},
		{"type not a string", edit(`"type":"text"`, `"type":1`), 400, "type must be a string"},
		{"text not a string", edit(`"text":"小区门口路灯坏了"`, `"text":{"a":1}`), 400, "text must be a string"},
		{"missing type", edit(`"type":"text",`, ``), 400, "missing type"},
		{"sender_id as a string", edit(`"sender_id":`+badWeiboSender, `"sender_id":"`+badWeiboSender+`"`), 400, "sender_id must be a positive integer"},
		{"sender_id fraction", edit(badWeiboSender, badWeiboSender+".5"), 400, "sender_id must be"},
		{"sender_id negative", edit(badWeiboSender, "-"+badWeiboSender), 400, "sender_id must be"},
		{"sender_id zero", edit(`"sender_id":`+badWeiboSender, `"sender_id":0`), 400, "sender_id must be"},
		{"missing receiver_id", edit(`"receiver_id":`+badWeiboUID+`,`, ``), 400, "missing receiver_id"},
		{"receiver_id of another account", edit(badWeiboUID, "1902538058"), 403, "receiver_id is not this account"},

		// Fields of known types, correctly signed.
		{"missing created_at", push(func() string { return regexpCreated(textPush(), "") }), 400, "created_at"},
		{"created_at in RFC 3339", push(func() string { return regexpCreated(textPush(), `"created_at":"2025-11-27T16:00:00+08:00",`) }), 400, "created_at"},
		{"created_at before 2000", push(func() string { return weiboDoc("text", "小区门口路灯坏了", "{}", old) }), 400, "created_at before 2000"},
		{"follow event before 2000", push(func() string { return weiboDoc("event", "", `{"subtype":"follow"}`, old) }), 400, "created_at before 2000"},
		{"unfollow event before 2000", push(func() string { return weiboDoc("event", "", `{"subtype":"unfollow"}`, old) }), 400, "created_at before 2000"},
		{"image before 2000", push(func() string { return weiboDoc("image", "", `{"tovfid":821804469}`, old) }), 400, "created_at before 2000"},
		{"empty text", doc("text", "  ", "{}"), 400, "empty text"},
		{"empty mention", doc("mention", "", `{"subtype":"status","key":1}`), 400, "empty text"},
		{"position without latitude", doc("position", "", `{"longitude":"122.1"}`), 400, "latitude"},
		{"position out of range", doc("position", "", `{"longitude":"122.1","latitude":"97.5"}`), 400, "latitude"},
		{"position data not an object", doc("position", "", `"122.1,37.5"`), 400, "data must be an object"},
		{"image without tovfid", doc("image", "", `{"vfid":821804459}`), 400, "tovfid"},
		{"image with a path as tovfid", doc("image", "", `{"tovfid":"../../etc/passwd"}`), 400, "tovfid"},
		{"event without subtype", doc("event", "", `{}`), 400, "subtype"},
		{"click without key", doc("event", "", `{"subtype":"click"}`), 400, "data.key"},

		// Content the core refuses, correctly signed: the signature does not cover the body.
		{"text of control characters only", doc("text", "\x1b\x07\u200b", "{}"), 400, "invalid submission"},
		{"text over max_text_chars", doc("text", strings.Repeat("很", 1001), "{}"), 400, "invalid submission"},
		{"created_at a day ahead", push(func() string { return weiboDoc("text", "小区门口路灯坏了", "{}", now().Add(24*time.Hour)) }), 400, "invalid submission"},
	}
	return surface{
		name: "weibo", cases: cases, checkRefusal: plainRefusal,
		keepsSignature: []string{"text of control characters only", "text over max_text_chars", "created_at a day ahead"},
		openCase: []badCase{
			{"text of control characters only", doc("text", "\x1b\x07\u200b", "{}"), 400, "invalid submission"},
			{"text over max_text_chars", doc("text", strings.Repeat("很", 1001), "{}"), 400, "invalid submission"},
			{"created_at before 2000", push(func() string { return weiboDoc("text", "小区门口路灯坏了", "{}", old) }), 400, "created_at before 2000"},
			{"duplicate text", edit(`"text":"小区门口路灯坏了"`, `"text":"小区门口路灯坏了","text":"另一段"`), 400, "appears twice"},
			{"invalid UTF-8 in text", edit("路灯", "\xff\xfe"), 400, "not valid UTF-8"},
		},
		closing: func(t *testing.T) answer {
			a := g.do(t, doc("text", "晚上更暗了", "{}")(t))
			if a.status != 200 || !strings.Contains(a.body, "result") {
				t.Fatalf("good supplement: %d %s", a.status, a.body)
			}
			return a
		},
		control: []func(t *testing.T) answer{func(t *testing.T) answer {
			a := g.do(t, doc("text", "小区门口路灯\x1b[31m坏了\u200b", "{}")(t))
			if a.status != 200 || !strings.Contains(a.body, "result") {
				t.Fatalf("good push: %d %s", a.status, a.body)
			}
			return a
		}},
	}
}

// regexpCreated replaces the created_at member of a push with repl (which may be empty).
func regexpCreated(push, repl string) string {
	i := strings.Index(push, `"created_at":`)
	j := i + strings.Index(push[i:], `",`) + 2
	return push[:i] + repl + push[j:]
}

// Webhook channels.

func hmacHex(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func sortedSHA1(parts ...string) string {
	parts = slices.Clone(parts)
	slices.Sort(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

// cityReport is the city app's push with sent_at now.
func cityReport(sentAt time.Time) string {
	return `{
  "sent_at": "` + sentAt.Format(time.RFC3339) + `",
  "user": {"mobile": "13800138000", "name": "李女士"},
  "client": {"version": "5.2.1", "os": "android"},
  "report": {
    "id": "RPT-ID",
    "category": "市政设施",
    "content": "文化中路与青岛路交叉口路灯不亮已经一周，晚上行人很危险。",
    "created_at": "2026-11-27T15:58:41+08:00",
    "location": {"lat": 37.5131, "lng": 122.1204, "address": "环翠区文化中路与青岛路交叉口"},
    "photos": [
      {"url": "https://files.cityapp.example.cn/r/000777/1.jpg", "type": "photo", "mime": "image/jpeg"}
    ]
  }
}`
}

const countyPush = `{"msg_id":MSGID,"from_uid":5123498765,"from_nick":"威海市民小王","msg_type":"text","create_time":1764230398123,` +
	`"content":{"text":"新威路桥下积水很深，车辆无法通行","geo":{"latitude":"37.4982","longitude":"122.0921"}}}`

func webhookSurface(g *badGateway) surface {
	const cityPath, countyPath = "/hooks/webhook/cityapp", "/hooks/webhook/county-social"
	report := func() string {
		return strings.Replace(cityReport(time.Now()), "RPT-ID", fmt.Sprintf("RPT-%d", g.next()), 1)
	}
	cityReq := func(body string, sig func(body string) string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, g.srv.URL+cityPath, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		if s := sig(body); s != "" {
			req.Header.Set("X-CityApp-Signature", s)
		}
		return req
	}
	sign := func(body string) string { return "sha256=" + hmacHex(badCitySecret, body) }
	city := func(edit func(string) string) func(t *testing.T) *http.Request {
		return func(*testing.T) *http.Request { return cityReq(edit(report()), sign) }
	}
	cityEdit := func(old, new string) func(t *testing.T) *http.Request {
		return city(func(r string) string { return strings.Replace(r, old, new, 1) })
	}
	citySig := func(sig func(body string) string) func(t *testing.T) *http.Request {
		return func(*testing.T) *http.Request { return cityReq(report(), sig) }
	}
	countyBody := func() string {
		return strings.Replace(countyPush, "MSGID", strconv.FormatInt(7301234567890000000+g.next(), 10), 1)
	}
	county := func(body func() string, query func(q url.Values, ts, nonce string)) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
			nonce := strconv.FormatInt(g.next(), 10)
			q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "signature": {sortedSHA1(badCountySecret, ts, nonce)}}
			if query != nil {
				query(q, ts, nonce)
			}
			req, err := http.NewRequest(http.MethodPost, g.srv.URL+countyPath+"?"+q.Encode(), strings.NewReader(body()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			return req
		}
	}
	countyEdit := func(old, new string) func(t *testing.T) *http.Request {
		return county(func() string { return strings.Replace(countyBody(), old, new, 1) }, nil)
	}
	countyQuery := func(f func(q url.Values, ts, nonce string)) func(t *testing.T) *http.Request {
		return county(countyBody, f)
	}
	// blankReport has nothing in it: text of control characters only, no location, no photos.
	blankReport := city(func(string) string {
		return fmt.Sprintf(`{"sent_at":%q,"user":{"mobile":"13800138000"},"report":{"id":"RPT-%d","content":"\u001b\u0007\u200b"}}`,
			time.Now().Format(time.RFC3339), g.next())
	})
	big := `{"sent_at":"SENT","report":{"id":"R","content":"` + strings.Repeat("长", 64<<10/3+1) + `"}}`
	cases := []badCase{
		// cityapp: HMAC-SHA256 over the body in a header.
		{"cityapp: missing signature", citySig(func(string) string { return "" }), 403, "missing signature"},
		{"cityapp: signature without its prefix", citySig(func(b string) string { return hmacHex(badCitySecret, b) }), 403, "invalid signature"},
		{"cityapp: signed with another secret", citySig(func(b string) string { return "sha256=" + hmacHex("another-secret-xyz", b) }), 403, "invalid signature"},
		{"cityapp: body changed after signing", func(*testing.T) *http.Request {
			b := report()
			return cityReq(strings.Replace(b, "一周", "一年", 1), func(string) string { return sign(b) })
		}, 403, "invalid signature"},
		{"cityapp: signature not hex", citySig(func(b string) string { return "sha256=zz" + hmacHex(badCitySecret, b)[2:] }), 403, "invalid signature"},
		{"cityapp: truncated signature", citySig(func(b string) string { return sign(b)[:len(sign(b))-2] }), 403, "invalid signature"},
		{"cityapp: stale sent_at", city(func(string) string { return cityReport(time.Now().Add(-6 * time.Minute)) }), 403, "outside the allowed window"},
		{"cityapp: sent_at from the future", city(func(string) string { return cityReport(time.Now().Add(6 * time.Minute)) }), 403, "outside the allowed window"},
		{"cityapp: sent_at missing", city(func(r string) string { return r[:strings.Index(r, `"sent_at"`)] + r[strings.Index(r, `"user"`):] }), 400, "missing timestamp"},
		{"cityapp: sent_at not RFC 3339", city(func(string) string { return strings.Replace(cityReport(time.Now()), "T", " ", 1) }), 400, "invalid timestamp"},
		{"cityapp: malformed JSON", city(func(r string) string { return r[:len(r)-2] }), 400, "malformed JSON"},
		{"cityapp: two documents", city(func(r string) string { return r + "{}" }), 400, "data after the document"},
		{"cityapp: an array", city(func(r string) string { return "[" + r + "]" }), 400, "must be an object"},
		{"cityapp: duplicate sent_at", city(func(r string) string {
			return strings.Replace(r, `"user"`, `"sent_at": "`+time.Now().Format(time.RFC3339)+`", "user"`, 1)
		}), 400, "appears twice"},
		{"cityapp: duplicate content", cityEdit(`"category": "市政设施",`, `"content": "另一段文字", "category": "市政设施",`), 400, "appears twice"},
		{"cityapp: duplicate member inside a photo", cityEdit(`"type": "photo",`, `"type": "photo", "type": "clip",`), 400, "appears twice"},
		{"cityapp: invalid UTF-8 in the content", cityEdit("路灯不亮", "\xff\xfe不亮"), 400, "not valid UTF-8"},
		{"cityapp: invalid UTF-8 in the name", cityEdit("李女士", "李\xc0"), 400, "not valid UTF-8"},
		{"cityapp: report id missing", cityEdit(`"id": "RPT-`, `"ref": "RPT-`), 400, "fields.external_id"},
		{"cityapp: report id an object", city(func(r string) string {
			i := strings.Index(r, `"RPT-`)
			return r[:i] + `{"v":1}` + r[i+strings.Index(r[i+1:], `"`)+2:]
		}), 400, "fields.external_id"},
		{"cityapp: content not a string", cityEdit(`"文化中路与青岛路交叉口路灯不亮已经一周，晚上行人很危险。"`, `["路灯"]`), 400, "fields.text"},
		{"cityapp: no content and no photos", city(func(string) string {
			return `{"sent_at":"` + time.Now().Format(time.RFC3339) + `","report":{"id":"R","content":"  "}}`
		}), 400, "fields.text"},
		{"cityapp: latitude out of range", cityEdit(`"lat": 37.5131`, `"lat": 137.5131`), 400, "fields.location.lat"},
		{"cityapp: photo URL javascript:", cityEdit("https://files.cityapp.example.cn/r/000777/1.jpg", "javascript:alert(1)"), 400, "fields.attachments"},
		{"cityapp: photos not an array", city(func(string) string {
			return `{"sent_at":"` + time.Now().Format(time.RFC3339) + `","report":{"id":"R","content":"x","photos":{"url":"https://f.example.cn/1.jpg"}}}`
		}), 400, "fields.attachments.items"},
		{"cityapp: created_at not RFC 3339", cityEdit("2026-11-27T15:58:41+08:00", "1764230321"), 400, "fields.time"},
		{"cityapp: created_at before 2000", cityEdit("2026-11-27T15:58:41+08:00", "1999-12-31T23:59:59+08:00"), 400, "before 2000"},
		{"cityapp: created_at at the Unix epoch", cityEdit("2026-11-27T15:58:41+08:00", "1970-01-01T00:00:00Z"), 400, "before 2000"},
		{"cityapp: body over 64 KiB", city(func(string) string { return strings.Replace(big, "SENT", time.Now().Format(time.RFC3339), 1) }), 413, "too large"},
		{"cityapp: content of control characters only", blankReport, 400, "invalid submission"},
		{"cityapp: content over max_text_chars", cityEdit(`"文化中路与青岛路交叉口路灯不亮已经一周，晚上行人很危险。"`, `"`+strings.Repeat("很", 1001)+`"`), 400, "invalid submission"},
		{"cityapp: created_at a day ahead", cityEdit("2026-11-27T15:58:41+08:00", time.Now().Add(24*time.Hour).Format(time.RFC3339)), 400, "invalid submission"},

		// county-social: sorted SHA-1 over secret, timestamp and nonce in the query.
		{"county: missing signature", countyQuery(func(q url.Values, _, _ string) { q.Del("signature") }), 403, "missing signature"},
		{"county: missing nonce", countyQuery(func(q url.Values, _, _ string) { q.Del("nonce") }), 400, "missing query:nonce"},
		{"county: another nonce", countyQuery(func(q url.Values, _, n string) { q.Set("nonce", "x"+n) }), 403, "invalid signature"},
		{"county: signed without the secret", countyQuery(func(q url.Values, ts, n string) { q.Set("signature", sortedSHA1(ts, n)) }), 403, "invalid signature"},
		{"county: stale timestamp", countyQuery(func(q url.Values, _, n string) {
			ts := strconv.FormatInt(time.Now().Add(-6*time.Minute).UnixMilli(), 10)
			q.Set("timestamp", ts)
			q.Set("signature", sortedSHA1(badCountySecret, ts, n))
		}), 403, "outside the allowed window"},
		{"county: timestamp in seconds", countyQuery(func(q url.Values, ts, n string) {
			q.Set("timestamp", ts[:len(ts)-3])
			q.Set("signature", sortedSHA1(badCountySecret, ts[:len(ts)-3], n))
		}), 403, "outside the allowed window"},
		{"county: timestamp not a number", countyQuery(func(q url.Values, ts, n string) {
			q.Set("timestamp", "17642304OO000")
			q.Set("signature", sortedSHA1(badCountySecret, "17642304OO000", n))
		}), 400, "invalid timestamp"},
		{"county: msg_id missing", county(func() string { return strings.Replace(countyBody(), `"msg_id":`, `"id":`, 1) }, nil), 400, "fields.external_id"},
		{"county: duplicate msg_id", county(func() string {
			b := countyBody()
			return strings.Replace(b, `"from_uid"`, `"msg_id":1,"from_uid"`, 1)
		}, nil), 400, "appears twice"},
		{"county: invalid UTF-8 in the nickname", countyEdit("小王", "\xff"), 400, "not valid UTF-8"},
		{"county: latitude not a number", countyEdit(`"37.4982"`, `"北纬37度"`), 400, "fields.location.lat"},
		{"county: media item with neither src nor fid", countyEdit(`"geo"`, `"media":[{"kind":"voice"}],"geo"`), 400, "neither url nor media_id"},
		{"county: create_time before 2000", countyEdit("1764230398123", "946684799999"), 400, "before 2000"},
		{"county: create_time in seconds", countyEdit("1764230398123", "1764230398"), 400, "before 2000"},
		// Content the core refuses; the signature does not cover the body.
		{"county: text of control characters only", countyEdit("新威路桥下积水很深，车辆无法通行", `\u001b\u0007\u200b`), 400, "invalid submission"},
		{"county: create_time a day ahead", countyEdit("1764230398123", strconv.FormatInt(time.Now().Add(24*time.Hour).UnixMilli(), 10)), 400, "invalid submission"},
	}
	return surface{
		name: "webhook", cases: cases, checkRefusal: plainRefusal,
		keepsSignature: []string{"county: text of control characters only", "county: create_time a day ahead"},
		// The city app names its citizen by phone: the report after the control's joins its case.
		openCase: []badCase{
			{"cityapp: content of control characters only", blankReport, 400, "invalid submission"},
			{"cityapp: content over max_text_chars", cityEdit(`"文化中路与青岛路交叉口路灯不亮已经一周，晚上行人很危险。"`, `"`+strings.Repeat("很", 1001)+`"`), 400, "invalid submission"},
			{"cityapp: created_at before 2000", cityEdit("2026-11-27T15:58:41+08:00", "1999-12-31T23:59:59+08:00"), 400, "before 2000"},
			{"cityapp: duplicate content", cityEdit(`"category": "市政设施",`, `"content": "另一段文字", "category": "市政设施",`), 400, "appears twice"},
		},
		closing: func(t *testing.T) answer {
			a := g.do(t, cityEdit("文化中路与青岛路交叉口路灯不亮已经一周，晚上行人很危险。", "晚上更暗了")(t))
			if a.status != 200 || !strings.Contains(a.body, "case_no") {
				t.Fatalf("good supplement: %d %s", a.status, a.body)
			}
			return a
		},
		control: []func(t *testing.T) answer{
			func(t *testing.T) answer {
				a := g.do(t, city(func(r string) string {
					r = strings.Replace(r, "李女士", `李\u001b[31m女士`, 1)
					r = strings.Replace(r, "环翠区文化中路", `环翠区\u0007文化中路\u200b`, 1)
					return strings.Replace(r, `"category": "市政设施"`, `"category": "市政\u0000设施"`, 1)
				})(t))
				if a.status != 200 || !strings.Contains(a.body, "case_no") {
					t.Fatalf("good city app report: %d %s", a.status, a.body)
				}
				var reply struct {
					Data struct {
						CaseNo string `json:"case_no"`
					} `json:"data"`
				}
				if err := json.Unmarshal([]byte(a.body), &reply); err != nil {
					t.Fatal(err)
				}
				checkClean(t, g.getCase(t, reply.Data.CaseNo), "citizen.name", "location.address", "metadata.app_category")
				return a
			},
			func(t *testing.T) answer {
				a := g.do(t, county(countyBody, nil)(t))
				if a.status != 200 || a.body != "success" {
					t.Fatalf("good county push: %d %s", a.status, a.body)
				}
				return a
			},
		},
	}
}

// REST.

func restSurface(g *badGateway) surface {
	req := func(method, path, key, contentType, body string, headers ...string) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			r, err := http.NewRequest(method, g.srv.URL+path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if key != "" {
				r.Header.Set("Authorization", "Bearer "+key)
			}
			if contentType != "" {
				r.Header.Set("Content-Type", contentType)
			}
			for i := 0; i+1 < len(headers); i += 2 {
				r.Header.Set(headers[i], headers[i+1])
			}
			return r
		}
	}
	submit := func(body string, headers ...string) func(t *testing.T) *http.Request {
		return req(http.MethodPost, "/v1/submissions", e2eKey, "application/json", body, headers...)
	}
	transcript := func(contentType, body string) func(t *testing.T) *http.Request {
		return req(http.MethodPost, "/v1/transcripts", e2eKey, contentType, body)
	}
	seg := `{"call_id":"CALLID","caller_number":"13800138000","started_at":"2026-11-27T09:30:00+08:00","segments":[{"speaker":"caller","start_ms":0,"end_ms":1000,"text":"路灯坏了","confidence":0.9}]}`
	callJSON := func(old, new string) string {
		return strings.Replace(strings.Replace(seg, "CALLID", fmt.Sprintf("call-%d", g.next()), 1), old, new, 1)
	}
	long := strings.Repeat("很", 1001)
	future := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	manyKeys := func(n int) string {
		var parts []string
		for i := range n {
			parts = append(parts, fmt.Sprintf(`"k%d":"v"`, i))
		}
		return strings.Join(parts, ",")
	}
	cases := []badCase{
		{"invalid JSON", submit(`{"text":`), 400, "invalid-json"},
		{"not an object", submit(`["text"]`), 400, "validation"},
		{"trailing data", submit(`{"text":"a"} {"text":"b"}`), 400, "invalid-json"},
		{"empty body", submit(``), 400, "invalid-json"},
		{"wrong content type", req(http.MethodPost, "/v1/submissions", e2eKey, "text/plain", `{"text":"a"}`), 415, "unsupported-media-type"},
		{"no content type", req(http.MethodPost, "/v1/submissions", e2eKey, "", `{"text":"a"}`), 415, "unsupported-media-type"},
		{"missing text", submit(`{"citizen":{"name":"王"}}`), 400, "validation"},
		{"blank text", submit(`{"text":"  \u3000 "}`), 400, "validation"},
		{"only control characters", submit(`{"text":"\u0000\u0007\u001b\u200b"}`), 400, "validation"},
		{"text over the limit", submit(`{"text":"` + long + `"}`), 400, "validation"},
		{"invalid UTF-8", submit("{\"text\":\"\xff\xfe\"}"), 400, "invalid-utf8"},
		{"JSON in a charset the API does not read", req(http.MethodPost, "/v1/submissions", e2eKey, "application/json; charset=gbk", "{\"text\":\"\xc2\xb7\xb5\xc6\"}"), 400, "invalid-utf8"},
		{"byte-order mark", submit("\ufeff{\"text\":\"a\"}"), 400, "invalid-json"},
		{"duplicate member", submit(`{"text":"路灯坏了","text":"另一段文字"}`), 400, "invalid-json"},
		{"duplicate nested member", submit(`{"text":"a","citizen":{"phone":"13800138000","phone":"13900139000"}}`), 400, "invalid-json"},
		{"duplicate member in an attachment", submit(`{"text":"a","attachments":[{"kind":"link","url":"https://a.example/","url":"https://b.example/"}]}`), 400, "invalid-json"},
		{"unknown field", submit(`{"text":"a","bogus":1}`), 400, "validation"},
		{"unknown nested field", submit(`{"text":"a","citizen":{"age":3}}`), 400, "validation"},
		{"wrong type", submit(`{"text":5}`), 400, "validation"},
		{"JSON null", submit(`null`), 400, "validation"},
		{"deeply nested", submit(`{"text":"a","metadata":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`), 400, "validation"},
		{"timestamp does not parse", submit(`{"text":"a","occurred_at":"yesterday"}`), 400, "validation"},
		{"timestamp without zone", submit(`{"text":"a","occurred_at":"2026-11-27T10:00:00"}`), 400, "validation"},
		{"timestamp far in the future", submit(`{"text":"a","occurred_at":"` + future + `"}`), 422, "timestamp-out-of-range"},
		{"timestamp before 2000", submit(`{"text":"a","occurred_at":"1999-12-31T23:59:59+08:00"}`), 422, "timestamp-out-of-range"},
		{"timestamp at the Unix epoch", submit(`{"text":"a","occurred_at":"1970-01-01T00:00:00Z"}`), 422, "timestamp-out-of-range"},
		{"name over the limit", submit(`{"text":"a","citizen":{"name":"` + strings.Repeat("王", 101) + `"}}`), 400, "validation"},
		{"phone over the limit", submit(`{"text":"a","citizen":{"phone":"` + strings.Repeat("1", 65) + `"}}`), 400, "validation"},
		{"too many attachments", submit(`{"text":"a","attachments":[` + strings.TrimSuffix(strings.Repeat(`{"kind":"link","url":"https://a.example/"},`, 21), ",") + `]}`), 400, "validation"},
		{"too many metadata keys", submit(`{"text":"a","metadata":{` + manyKeys(51) + `}}`), 400, "validation"},
		{"metadata value over the limit", submit(`{"text":"a","metadata":{"k":"` + strings.Repeat("x", 1001) + `"}}`), 400, "validation"},
		{"latitude out of range", submit(`{"text":"a","location":{"lat":200,"lng":1}}`), 400, "validation"},
		{"lat without lng", submit(`{"text":"a","location":{"lat":20}}`), 400, "validation"},
		{"attachment URL not a URL", submit(`{"text":"a","attachments":[{"kind":"image","url":"not a url"}]}`), 400, "validation"},
		{"attachment file: URL", submit(`{"channel":"phone","text":"x","attachments":[{"kind":"file","url":"file:///etc/passwd"}]}`), 422, "unsupported-url-scheme"},
		{"attachment gopher: URL", submit(`{"text":"x","attachments":[{"kind":"link","url":"https://ok.example/a"},{"kind":"file","url":"gopher://127.0.0.1:6379/_FLUSHALL"}]}`), 422, "unsupported-url-scheme"},
		{"attachment javascript: link", submit(`{"text":"x","attachments":[{"kind":"link","url":" javascript:alert(1)"}]}`), 422, "unsupported-url-scheme"},
		{"attachment kind unknown", submit(`{"text":"a","attachments":[{"kind":"hologram","url":"https://x.y/z"}]}`), 400, "validation"},
		{"unknown channel", submit(`{"text":"a","channel":"fax"}`), 400, "validation"},
		{"unknown request type", submit(`{"text":"a","request_type":"rant"}`), 400, "validation"},
		{"over-long Idempotency-Key", submit(`{"text":"a"}`, "Idempotency-Key", strings.Repeat("k", 256)), 400, "validation"},
		{"Idempotency-Key with spaces", submit(`{"text":"a"}`, "Idempotency-Key", "a b"), 400, "validation"},
		{"body over the limit", submit(`{"text":"` + strings.Repeat("a", 70000) + `"}`), 413, "too-large"},
		{"missing API key", req(http.MethodPost, "/v1/submissions", "", "application/json", `{"text":"a"}`), 401, "unauthorized"},
		{"unknown API key", req(http.MethodPost, "/v1/submissions", "nope", "application/json", `{"text":"a"}`), 401, "unauthorized"},
		{"key without the submit scope", req(http.MethodPost, "/v1/submissions", badEventsKey, "application/json", `{"text":"a"}`), 403, "forbidden"},

		// Call-centre transcripts.
		{"transcript: invalid JSON", transcript("application/json", `{"call_id":`), 400, "validation"},
		{"transcript: duplicate member", transcript("application/json", callJSON(`"caller_number"`, `"caller_number":"13911112222","caller_number"`)), 400, "validation"},
		{"transcript: invalid UTF-8", transcript("application/json", callJSON("路灯", "\xff")), 400, "invalid-utf8"},
		{"transcript: caller turn blank", transcript("application/json", callJSON(`"text":"路灯坏了"`, `"text":"  "`)), 400, "validation"},
		{"transcript: started before 2000", transcript("application/json", callJSON("2026-11-27T09:30:00+08:00", "1999-12-31T09:30:00+08:00")), 422, "timestamp-out-of-range"},
		{"transcript: started a day ahead", transcript("application/json", callJSON("2026-11-27T09:30:00+08:00", time.Now().Add(24*time.Hour).Format(time.RFC3339))), 422, "timestamp-out-of-range"},
		{"transcript: text/plain in invalid UTF-8", transcript("text/plain", "市民：路灯\xff坏了"), 400, "invalid-utf8"},

		// Status events from the case system.
		{"event: unknown type", req(http.MethodPost, "/v1/cases/WH2026112700001/events", badEventsKey, "application/json",
			`{"event_id":"e1","type":"teleported","at":"2026-11-27T10:00:00+08:00"}`), 400, "validation"},
		{"event: duplicate member", req(http.MethodPost, "/v1/cases/WH2026112700001/events", badEventsKey, "application/json",
			`{"event_id":"e1","type":"accepted","type":"closed","at":"2026-11-27T10:00:00+08:00"}`), 400, "invalid-json"},
		{"event: without the events scope", req(http.MethodPost, "/v1/cases/WH2026112700001/events", e2eKey, "application/json",
			`{"event_id":"e1","type":"accepted","at":"2026-11-27T10:00:00+08:00"}`), 403, "forbidden"},
	}
	return surface{
		name: "rest", cases: cases, checkRefusal: problemRefusal,
		control: []func(t *testing.T) answer{func(t *testing.T) answer {
			a := g.do(t, submit(`{"text":"小区门口路灯\u001b[31m坏了\u200b","citizen":{"name":"王\u0007先生"},`+
				`"location":{"lat":37.5,"lng":122.1},"metadata":{"crm_note":"转\u0000办"},`+
				`"attachments":[{"kind":"image","url":"https://files.example.cn/1.jpg","title":"照片\u001b[0m","content_type":"image/jpeg\r\nX-A: 1"}]}`)(t))
			if a.status != 201 {
				t.Fatalf("good submission: %d %s", a.status, a.body)
			}
			var c map[string]any
			if err := json.Unmarshal([]byte(a.body), &c); err != nil {
				t.Fatal(err)
			}
			checkClean(t, g.getCase(t, c["id"].(string)), "citizen.name", "metadata.crm_note", "attachments[0].title", "attachments[0].content_type")
			return a
		}},
	}
}
