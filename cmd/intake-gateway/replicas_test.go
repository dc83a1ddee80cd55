package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/internal/logging"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

// Two gateways on one PostgreSQL database behind a round-robin proxy, as production runs them.
// WeChat, SMS and REST traffic reaches both at once; the platforms and the case system are fakes
// that count what they are sent. Nothing may be done twice or left undone: one case per citizen
// and per idempotency key, each case delivered to the case system once, every notification sent
// once, one WeChat access token for both replicas, and every attachment served by either.

const (
	replicaKey       = "replica-key"
	replicaTwilioSID = "AC00112233445566778899aabbccddeeff"
	replicaTwilioTok = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
)

// fakeCaseSystem accepts every delivery and counts the first events per Idempotency-Key.
type fakeCaseSystem struct {
	*httptest.Server
	mu    sync.Mutex
	first map[string]int // Idempotency-Key of a case's first event → deliveries
	total atomic.Int32
}

func newFakeCaseSystem(t *testing.T) *fakeCaseSystem {
	cs := &fakeCaseSystem{first: map[string]int{}}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		cs.total.Add(1)
		if intake.IsFirstEvent(r.Header.Get("X-Intake-Event")) {
			cs.mu.Lock()
			cs.first[r.Header.Get("Idempotency-Key")]++
			cs.mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"case_ref":"CS-1"}`)
	}))
	t.Cleanup(cs.Close)
	return cs
}

func (cs *fakeCaseSystem) firstEvents() map[string]int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := make(map[string]int, len(cs.first))
	for k, v := range cs.first {
		out[k] = v
	}
	return out
}

// fakeTwilioAPI accepts outgoing SMS (Messages.json) and counts them per recipient.
type fakeTwilioAPI struct {
	*httptest.Server
	mu   sync.Mutex
	sent map[string]int // To → messages
	seq  atomic.Int64
}

func newFakeTwilioAPI(t *testing.T) *fakeTwilioAPI {
	f := &fakeTwilioAPI{sent: map[string]int{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		user, pass, _ := r.BasicAuth()
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/Messages.json") || user != replicaTwilioSID || pass != replicaTwilioTok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		f.sent[form.Get("To")]++
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":"SM%032d","status":"queued"}`, f.seq.Add(1))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeTwilioAPI) sentTo() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.sent))
	for k, v := range f.sent {
		out[k] = v
	}
	return out
}

// toFake sends requests for Twilio's API host to the fake; every other request goes as it was.
type toFake struct {
	next http.RoundTripper
	fake *url.URL
}

func (rt toFake) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == "api.twilio.com" {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = rt.fake.Scheme, rt.fake.Host, rt.fake.Host
	}
	next := rt.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// roundRobin is the balancer: each request goes to the next replica in turn.
type roundRobin struct {
	*httptest.Server
	backends atomic.Pointer[[]*url.URL]
	next     atomic.Int64
	served   [2]atomic.Int32
}

func newRoundRobin(t *testing.T) *roundRobin {
	rr := &roundRobin{}
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		i := int(rr.next.Add(1) % 2)
		rr.served[i].Add(1)
		pr.SetURL((*rr.backends.Load())[i])
		pr.Out.Host = pr.In.Host // the public host, as a balancer passes it on
	}}
	rr.Server = httptest.NewServer(proxy)
	t.Cleanup(rr.Close)
	return rr
}

// replicaSet is two assembled gateways on one database, their fakes and the balancer.
type replicaSet struct {
	replicas [2]*httptest.Server
	lb       *roundRobin
	wxAPI    *wxtest.FakeAPI
	twAPI    *fakeTwilioAPI
	cases    *fakeCaseSystem
}

// startReplicas assembles two gateways exactly as serve does, on one fresh PostgreSQL
// database and one attachment bucket, behind a round-robin balancer; rateLimits is the
// rate_limits section.
func startReplicas(t *testing.T, rateLimits string) *replicaSet {
	t.Helper()
	dbURL := pgtest.NewDatabase(t, "", nil)
	rs := &replicaSet{wxAPI: wxtest.NewFakeAPI(e2eAccount.AppID, "secret"), twAPI: newFakeTwilioAPI(t), cases: newFakeCaseSystem(t), lb: newRoundRobin(t)}
	t.Cleanup(rs.wxAPI.Close)
	attachments := (&url.URL{Scheme: "file", Path: filepath.Join(t.TempDir(), "attachments")}).String()
	twURL, _ := url.Parse(rs.twAPI.URL)
	for i := range rs.replicas {
		dir := t.TempDir()
		yaml := fmt.Sprintf(`server: { public_base_url: %q, request_timeout: 10s }
database: { url: %q, sqlite_path: %q, attachments_dir: %q }
attachments: { url: %q }
log: { level: error }
api_keys: [{ name: crm, sha256: "%s", scopes: [submit, read, events] }]
rate_limits: %s
case_systems: [{ name: default, url: %q, secret: cs-secret }]
forwarding: { retry_min: 50ms, retry_max: 200ms }
media: { allow_private_networks: true, allow_http: true }
channels:
  - { id: wechat-main, type: wechat, app_id: %s, app_secret: secret, token: %s, encoding_aes_key: %s, mode: safe, account_id: %s, api_base_url: %q }
  - { id: sms-main, type: twilio, account_sid: %s, auth_token: %s, from: "+15005550006" }
`, rs.lb.URL, dbURL, filepath.Join(dir, "unused.db"), filepath.Join(dir, "unused-attachments"), attachments, sha(replicaKey), rateLimits, rs.cases.URL,
			e2eAccount.AppID, e2eAccount.Token, e2eAccount.EncodingAESKey, e2eAccount.GhID, rs.wxAPI.URL, replicaTwilioSID, replicaTwilioTok)
		path := filepath.Join(dir, "gateway.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, []string{})
		if err != nil {
			t.Fatal(err)
		}
		a, err := assembleWith(context.Background(), cfg, logging.New(testLog{t}, "error", "text"),
			func(rt http.RoundTripper) http.RoundTripper { return toFake{next: rt, fake: twURL} })
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.handler)
		rs.replicas[i] = srv
		t.Cleanup(func() { srv.Close(); a.Close() })
	}
	backends := make([]*url.URL, 2)
	for i, r := range rs.replicas {
		backends[i], _ = url.Parse(r.URL)
	}
	rs.lb.backends.Store(&backends)
	return rs
}

// via lets the WeChat helpers (which take a server) push to any base URL.
func via(base string) *httptest.Server { return &httptest.Server{URL: base} }

func TestTwoReplicas(t *testing.T) {
	rs := startReplicas(t, "{ replicas: 2 }")
	replicas, lb, wxAPI, twAPI, cases := rs.replicas, rs.lb, rs.wxAPI, rs.twAPI, rs.cases

	const citizens = 6
	var wg sync.WaitGroup

	// WeChat: each citizen's text and photo arrive together, one at each replica.
	replies := make([][2]string, citizens)
	for i := range citizens {
		openid := fmt.Sprintf("oReplicaCitizen%02d", i)
		wxAPI.PutMedia(fmt.Sprintf("media_%d", 880000+i), wxtest.FakeMedia{ContentType: "image/jpeg", Body: []byte(fmt.Sprintf("\xff\xd8JPEG-%d", i))})
		for j, body := range []string{
			textMsg(openid, fmt.Sprint(770000+i), fmt.Sprintf("第%d号楼下水道堵塞，污水漫到路面上", i+1)),
			imageMsg(openid, fmt.Sprint(880000+i)),
		} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// WeChat pushes a message again when it is not answered in time, as here
				// under a loaded machine or the race detector; the answer must stay one case.
				var (
					status int
					reply  string
				)
				for range 4 {
					if status, reply = push(t, via(replicas[j].URL), body); status != http.StatusServiceUnavailable {
						break
					}
				}
				if status != 200 {
					t.Errorf("wechat %s message %d: %d %q", openid, j, status, reply)
				}
				replies[i][j] = reply
			}()
		}
	}
	// SMS through the balancer, each one delivered twice at once (Twilio retries on a timeout).
	hook := lb.URL + "/hooks/twilio/sms-main/sms"
	for i := range citizens {
		form := url.Values{
			"MessageSid": {fmt.Sprintf("SM%032d", 5000+i)}, "AccountSid": {replicaTwilioSID}, "ApiVersion": {"2010-04-01"},
			"From": {fmt.Sprintf("+86138001%05d", i)}, "To": {"+15005550006"}, "Body": {fmt.Sprintf("%d号路口红绿灯不亮了", i+1)},
			"NumSegments": {"1"}, "NumMedia": {"0"},
		}
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status := 0
				for range 4 {
					req, _ := http.NewRequest("POST", hook, strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("X-Twilio-Signature", twilioSignature(replicaTwilioTok, hook, form))
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					res.Body.Close()
					if status = res.StatusCode; status != http.StatusServiceUnavailable {
						break
					}
				}
				if status != 200 {
					t.Errorf("sms %d: %d", i, status)
				}
			}()
		}
	}
	// REST through the balancer: each submission sent four times at once with one
	// Idempotency-Key; every answer names the same case.
	restIDs := make([][4]string, citizens)
	for i := range citizens {
		body := fmt.Sprintf(`{"channel":"phone","text":"%d号小区供暖不热，室温只有十二度","citizen":{"phone":"1390000%04d"}}`, i+1, i)
		for k := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var (
					status int
					out    []byte
				)
				for range 4 { // a client retries a 503 with the same key
					if status, out = lbCall(t, lb.URL, "POST", "/v1/submissions", body, "rest-"+fmt.Sprint(i)); status != http.StatusServiceUnavailable {
						break
					}
				}
				if status != 200 && status != 201 {
					t.Errorf("rest %d: %d %s", i, status, out)
					return
				}
				var v struct{ ID string }
				_ = json.Unmarshal(out, &v)
				restIDs[i][k] = v.ID
			}()
		}
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if lb.served[0].Load() == 0 || lb.served[1].Load() == 0 {
		t.Fatalf("the balancer used one replica only: %d / %d", lb.served[0].Load(), lb.served[1].Load())
	}

	// One case per WeChat citizen, whichever message made it: the other joined it.
	for i, r := range replies {
		no0, no1 := caseNoOf(r[0]), caseNoOf(r[1])
		if no0 == "" || no0 != no1 {
			t.Errorf("citizen %d: text and photo answered with different cases: %q / %q", i, r[0], r[1])
		}
		if strings.Contains(r[0], "已受理") == strings.Contains(r[1], "已受理") {
			t.Errorf("citizen %d: exactly one of the two messages must open the case: %q / %q", i, r[0], r[1])
		}
	}
	for i, ids := range restIDs {
		if ids[0] == "" || ids[0] != ids[1] || ids[0] != ids[2] || ids[0] != ids[3] {
			t.Errorf("rest %d: retries answered with different cases %v", i, ids)
		}
	}
	all := listAllCases(t, lb.URL)
	byChannel := map[string]int{}
	for _, c := range all {
		byChannel[c.Channel]++
	}
	if byChannel["wechat"] != citizens || byChannel["sms"] != citizens || byChannel["phone"] != citizens || len(all) != 3*citizens {
		t.Fatalf("cases by channel %v, want %d each", byChannel, citizens)
	}

	// Every case reaches the case system once.
	waitFor(t, "every case delivered", func() bool { return len(cases.firstEvents()) == len(all) })
	time.Sleep(300 * time.Millisecond) // a second delivery, if one were coming, would be here by now
	for key, n := range cases.firstEvents() {
		if n != 1 {
			t.Errorf("case delivery %s reached the case system %d times", key, n)
		}
	}

	// The photos are copied once into the shared bucket, and either replica serves them.
	for _, c := range all {
		if c.Channel != "wechat" {
			continue
		}
		var att string
		waitFor(t, "the photo of "+c.CaseNo+" copied", func() bool {
			v := getCaseView(t, lb.URL, c.ID)
			if len(v.Attachments) != 1 || !strings.HasPrefix(v.Attachments[0].URL, "/v1/attachments/") {
				return false
			}
			att = v.Attachments[0].URL
			return true
		})
		for _, r := range replicas {
			status, body := lbCall(t, r.URL, "GET", att, "", "")
			if status != 200 || !bytes.HasPrefix(body, []byte("\xff\xd8JPEG-")) {
				t.Errorf("replica %s serves %s: %d %q", r.URL, att, status, body)
			}
		}
	}

	// The case system resolves every case through the balancer; each citizen is told once.
	for _, c := range all {
		event := fmt.Sprintf(`{"event_id":"ev-%s","type":"resolved","at":%q,"department":"市城管局","message":"已处理完毕","notify":true}`,
			c.ID, time.Now().UTC().Format(time.RFC3339))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if status, body := lbCall(t, lb.URL, "POST", "/v1/cases/"+c.ID+"/events", event, ""); status != 200 {
				t.Errorf("event for %s: %d %s", c.CaseNo, status, body)
			}
		}()
	}
	wg.Wait()
	wantWeChat, wantSMS := map[string]int{}, map[string]int{}
	waitFor(t, "every notification sent", func() bool {
		clear(wantWeChat)
		clear(wantSMS)
		for _, c := range all {
			v := getCaseView(t, lb.URL, c.ID)
			if len(v.Notifications) == 0 {
				return false
			}
			for _, n := range v.Notifications {
				if n.State != intake.NotificationSent {
					return false
				}
				switch n.Channel {
				case intake.ChannelWeChat:
					wantWeChat[v.Citizen.WeChatOpenID]++
				case intake.ChannelSMS:
					wantSMS[v.Citizen.Phone]++
				}
			}
		}
		return true
	})
	time.Sleep(300 * time.Millisecond)
	gotWeChat := map[string]int{}
	for _, m := range wxAPI.Sent() {
		if to, _ := m.Body["touser"].(string); to != "" {
			gotWeChat[to]++
		}
	}
	if fmt.Sprint(gotWeChat) != fmt.Sprint(wantWeChat) || len(wantWeChat) != citizens {
		t.Errorf("WeChat messages sent per citizen %v, notifications recorded %v", gotWeChat, wantWeChat)
	}
	if got := twAPI.sentTo(); fmt.Sprint(got) != fmt.Sprint(wantSMS) || len(wantSMS) != 2*citizens {
		t.Errorf("SMS sent per number %v, notifications recorded %v", got, wantSMS)
	}
	if n := wxAPI.TokenCalls(); n != 1 {
		t.Errorf("WeChat access token fetched %d times by the two replicas, want 1", n)
	}
}

// caseNoOf is the case number a reply names ("" when none).
func caseNoOf(reply string) string {
	i := strings.Index(reply, "WH")
	if i < 0 || len(reply) < i+15 {
		return ""
	}
	return reply[i : i+15]
}

// lbCall sends an API request with the replica test's key; idem, when set, is the
// Idempotency-Key.
func lbCall(t *testing.T, base, method, path, body, idem string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	req.Header.Set("Authorization", "Bearer "+replicaKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

type listedCase struct {
	ID      string `json:"id"`
	CaseNo  string `json:"case_no"`
	Channel string `json:"channel"`
}

func listAllCases(t *testing.T, base string) []listedCase {
	t.Helper()
	status, body := lbCall(t, base, "GET", "/v1/cases?limit=100", "", "")
	if status != 200 {
		t.Fatalf("list cases: %d %s", status, body)
	}
	var page struct {
		Cases []listedCase `json:"cases"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	return page.Cases
}

func getCaseView(t *testing.T, base, id string) intake.CaseView {
	t.Helper()
	status, body := lbCall(t, base, "GET", "/v1/cases/"+id, "", "")
	if status != 200 {
		t.Fatalf("GET case %s: %d %s", id, status, body)
	}
	var v intake.CaseView
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// With rate_limits.replicas: 2 each replica enforces half of every per-citizen limit, so behind
// the balancer a citizen gets the configured limit in total, not twice it; query-code lockouts
// are counted in the database, so guesses spread over both replicas lock the case number.
func TestTwoReplicasShareLimits(t *testing.T) {
	rs := startReplicas(t, "{ replicas: 2, sender: { rate: 0.001, burst: 8 } }")
	lb := via(rs.lb.URL)

	// Ten messages from one citizen, one after another, alternate between the replicas: the
	// burst of 8 is spent after eight, whichever replica served them.
	ok, refused := 0, 0
	for i := range 10 {
		status, _ := push(t, lb, textMsg("oFlooder", fmt.Sprint(660000+i), fmt.Sprintf("新问题 第%d件事：小区电梯坏了", i+1)))
		switch status {
		case 200:
			ok++
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("message %d: %d", i+1, status)
		}
	}
	if ok != 8 || refused != 2 {
		t.Fatalf("sender burst 8 over two replicas: %d answered, %d refused", ok, refused)
	}

	// Status queries: conversation.query_limit (5) is split the same way, two per replica.
	answered, limited := 0, 0
	for i := range 5 {
		status, reply := push(t, lb, textMsg("oAsker", fmt.Sprint(661000+i), "查询"))
		if status != 200 {
			t.Fatalf("status query %d: %d", i+1, status)
		}
		if strings.Contains(reply, "查询过于频繁") {
			limited++
		} else {
			answered++
		}
	}
	if answered != 4 || limited != 1 {
		t.Fatalf("status queries over two replicas: %d answered, %d limited", answered, limited)
	}

	// Query-code guesses from five strangers, spread over both replicas, lock the case number:
	// a sixth stranger with the right code gets the neutral miss; the case's own citizen does not.
	_, created := push(t, lb, textMsg("oOwner", "662000", "小区门口的井盖丢了，很危险"))
	caseNo := caseNoOf(created)
	i := strings.Index(created, "查询码：")
	if caseNo == "" || i < 0 {
		t.Fatalf("created reply: %q", created)
	}
	code := created[i+len("查询码：") : i+len("查询码：")+6]
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for s := range 5 {
		_, reply := push(t, lb, textMsg(fmt.Sprintf("oStranger%d", s), fmt.Sprint(663000+s), "查询 "+caseNo+" "+wrong))
		if strings.Contains(reply, caseNo) {
			t.Fatalf("a wrong code answered with the case: %q", reply)
		}
	}
	_, reply := push(t, lb, textMsg("oStranger9", "663009", "查询 "+caseNo+" "+code))
	if strings.Contains(reply, caseNo) || !strings.Contains(reply, "未查询到") {
		t.Fatalf("the right code after the lockout: %q", reply)
	}
	_, reply = push(t, lb, textMsg("oOwner", "663010", "查询 "+caseNo+" "+code))
	if !strings.Contains(reply, caseNo) {
		t.Fatalf("the case's own citizen after the lockout: %q", reply)
	}
}
