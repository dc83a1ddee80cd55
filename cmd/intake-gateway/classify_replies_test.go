package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/internal/logging"
	"github.com/hotline12345/intake-gateway/internal/replies"
	"github.com/hotline12345/intake-gateway/normalize"
)

// The replies a citizen gets at once for an emergency and for a matter outside the hotline's
// remit, through each channel's real webhook handler with the bytes the platform sends, on the
// gateway assembled from its configuration with the built-in rules and model.
//
// The texts are worded so that today's rule phrases alone find neither: a stroke described
// without a trigger phrase, and a private loan that names no court or arbitration.
const (
	strokeText = "我爸吃着饭突然说话含糊，嘴歪了，右手拿不住筷子"
	debtText   = "借给朋友五万块钱，他一直拖着不还，你们能不能帮我要回来"

	repliesTwilioToken = "0123456789abcdef0123456789abcdef"
	repliesPublicBase  = "https://hotline.example.gov.cn"
	repliesWeiboSecret = "9f3c2a7b5e1d4c8a"
	repliesWeiboUID    = "1902538057"
)

type replyGateway struct {
	srv *httptest.Server
	app *assembly
}

func assembleReplyGateway(t *testing.T) replyGateway {
	t.Helper()
	dir := t.TempDir()
	yaml := fmt.Sprintf(`database: { sqlite_path: %q }
log: { level: error }
server: { public_base_url: %q }
channels:
  - id: wechat-main
    type: wechat
    app_id: %s
    app_secret: secret
    token: %s
    encoding_aes_key: %s
    mode: safe
    account_id: %s
  - { id: sms-main, type: twilio, account_sid: AC0123456789abcdef0123456789abcdef, auth_token: %s, from: "+15005550006" }
  - { id: weibo-main, type: weibo, app_key: "3456789012", app_secret: %s, account_uid: %q }
`, filepath.Join(dir, "replies.db"), repliesPublicBase, e2eAccount.AppID, e2eAccount.Token, e2eAccount.EncodingAESKey, e2eAccount.GhID,
		repliesTwilioToken, repliesWeiboSecret, repliesWeiboUID)
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, []string{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := assemble(context.Background(), cfg, logging.New(io.Discard, "error", "json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.handler)
	t.Cleanup(func() { srv.Close(); a.Close() })
	return replyGateway{srv: srv, app: a}
}

// replyWants are what the citizen must read: for the stroke, the medical advice with 120 first
// and no promise of a reply in working days; for the debt, the referral kind's reply.
func checkEmergencyReply(t *testing.T, channel, reply string) {
	t.Helper()
	advice := strings.TrimSpace(medicalAdvice(t))
	if !strings.HasPrefix(reply, "【紧急】") || !strings.Contains(reply, "120") || !strings.Contains(reply, advice[:30]) {
		t.Errorf("%s: emergency reply does not start with the advice to call 120:\n%s", channel, reply)
	}
	if strings.Contains(reply, "预计") || strings.Contains(reply, "前答复") {
		t.Errorf("%s: emergency reply promises a reply in working days:\n%s", channel, reply)
	}
}

func checkReferralReply(t *testing.T, channel, reply string) {
	t.Helper()
	var replies []string
	for _, k := range referrals(t).Kinds {
		if slices.Contains([]string{"civil_dispute", "court", "legal_aid"}, k.Code) {
			replies = append(replies, strings.TrimSpace(k.Reply))
		}
	}
	if !slices.ContainsFunc(replies, func(r string) bool { return strings.Contains(reply, r) }) {
		t.Errorf("%s: the reply to a private debt gives none of the referrals for private debts:\n%s", channel, reply)
	}
	if !strings.Contains(reply, "工单编号") || strings.Contains(reply, "我们将转交相关部门办理") {
		t.Errorf("%s: out-of-scope reply should keep the case number and not promise handling:\n%s", channel, reply)
	}
}

func medicalAdvice(t *testing.T) string {
	t.Helper()
	r, err := normalize.ParseRules(normalize.Sources{Taxonomy: configs.Taxonomy, Emergency: configs.Emergency})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range r.Emergency.Kinds {
		if k.Kind == intake.EmergencyMedical {
			return k.Advice
		}
	}
	t.Fatal("no medical kind in emergency.yaml")
	return ""
}

func referrals(t *testing.T) normalize.ReferralRules {
	t.Helper()
	r, err := normalize.ParseRules(normalize.Sources{Taxonomy: configs.Taxonomy, OutOfScope: configs.OutOfScope, Referrals: configs.Referrals})
	if err != nil {
		t.Fatal(err)
	}
	return r.Referrals
}

// storedCase finds the case of a channel's external id and checks its record.
func storedCase(t *testing.T, g replyGateway, externalID string) intake.Case {
	t.Helper()
	page, err := g.app.store.ListCases(context.Background(), intake.CaseFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Cases {
		if c.ExternalID == externalID {
			return *c
		}
	}
	t.Fatalf("no case with external id %s", externalID)
	return intake.Case{}
}

func checkStored(t *testing.T, g replyGateway, strokeID, debtID string) {
	t.Helper()
	stroke := storedCase(t, g, strokeID)
	if stroke.Emergency == nil || stroke.Emergency.Kind != intake.EmergencyMedical || stroke.Priority != intake.PriorityUrgent {
		t.Errorf("stroke case: emergency %+v priority %s", stroke.Emergency, stroke.Priority)
	}
	debt := storedCase(t, g, debtID)
	cl := debt.Classification
	if !cl.OutOfScope || cl.Referral == "" || cl.OutOfScopeReason == "" || cl.OutOfScopeCode == "" || len(cl.ModelTerms) == 0 {
		t.Errorf("debt case classification: %+v", cl)
	}
	// The stored record keeps the model's confidences, for the operator who reviews it.
	if cl.OutOfScopeConfidence <= 0 || stroke.Classification.EmergencyConfidence <= 0 {
		t.Errorf("stored confidences: out of scope %v (debt), emergency %v (stroke)", cl.OutOfScopeConfidence, stroke.Classification.EmergencyConfidence)
	}
}

func TestEmergencyAndReferralRepliesWeChat(t *testing.T) {
	g := assembleReplyGateway(t)
	status, reply := push(t, g.srv, textMsg("oStroke1", "7001", strokeText))
	if status != http.StatusOK {
		t.Fatalf("stroke: %d %s", status, reply)
	}
	checkEmergencyReply(t, "wechat", reply)
	status, reply = push(t, g.srv, textMsg("oDebt1", "7002", debtText))
	if status != http.StatusOK {
		t.Fatalf("debt: %d %s", status, reply)
	}
	checkReferralReply(t, "wechat", reply)
	checkStored(t, g, "7001", "7002")
}

// twilioSign is X-Twilio-Signature computed from Twilio's description (the URL, then each
// parameter name and value in sorted order; HMAC-SHA1 with the auth token; base64).
func twilioSign(token, rawURL string, params url.Values) string {
	var b strings.Builder
	b.WriteString(rawURL)
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		vals := slices.Clone(params[k])
		sort.Strings(vals)
		for _, v := range vals {
			b.WriteString(k + v)
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func postSMS(t *testing.T, g replyGateway, sid, from, text string) (int, string) {
	t.Helper()
	form := url.Values{
		"ToCountry": {"US"}, "SmsMessageSid": {sid}, "NumMedia": {"0"}, "SmsSid": {sid}, "SmsStatus": {"received"},
		"Body": {text}, "FromCountry": {"CN"}, "To": {"+15005550006"}, "NumSegments": {"1"}, "MessageSid": {sid},
		"AccountSid": {"AC0123456789abcdef0123456789abcdef"}, "From": {from}, "ApiVersion": {"2010-04-01"},
	}
	body := form.Encode()
	const path = "/hooks/twilio/sms-main/sms"
	req, err := http.NewRequest(http.MethodPost, g.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilioSign(repliesTwilioToken, repliesPublicBase+path, form))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var twiml struct {
		Messages []string `xml:"Message"`
	}
	if err := xml.Unmarshal(raw, &twiml); err != nil {
		t.Fatalf("reply is not TwiML: %v\n%s", err, raw)
	}
	return res.StatusCode, strings.Join(twiml.Messages, "")
}

func TestEmergencyAndReferralRepliesSMS(t *testing.T) {
	g := assembleReplyGateway(t)
	status, reply := postSMS(t, g, "SM70000000000000000000000000000001", "+8613800007001", strokeText)
	if status != http.StatusOK {
		t.Fatalf("stroke: %d %s", status, reply)
	}
	checkEmergencyReply(t, "sms", reply)
	status, reply = postSMS(t, g, "SM70000000000000000000000000000002", "+8613800007002", debtText)
	if status != http.StatusOK {
		t.Fatalf("debt: %d %s", status, reply)
	}
	checkReferralReply(t, "sms", reply)
	checkStored(t, g, "SM70000000000000000000000000000001", "SM70000000000000000000000000000002")
}

// weiboSign is Weibo's push signature: SHA-1 of app secret, timestamp and nonce sorted and
// concatenated, lowercase hex.
func weiboSign(secret, timestamp, nonce string) string {
	v := []string{secret, timestamp, nonce}
	sort.Strings(v)
	return fmt.Sprintf("%x", sha1.Sum([]byte(v[0]+v[1]+v[2])))
}

func postWeibo(t *testing.T, g replyGateway, sender, text string) (int, string) {
	t.Helper()
	ts := fmt.Sprint(time.Now().UnixMilli())
	const nonce = "57155157"
	q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "signature": {weiboSign(repliesWeiboSecret, ts, nonce)}}
	textJSON, _ := json.Marshal(text)
	body := `{"type":"text","receiver_id":` + repliesWeiboUID + `,"sender_id":` + sender +
		`,"created_at":"Thu Nov 27 16:00:00 +0800 2025","text":` + string(textJSON) + `,"data":{}}`
	res, err := http.Post(g.srv.URL+"/hooks/weibo/weibo-main?"+q.Encode(), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var passive struct {
		Result bool   `json:"result"`
		Data   string `json:"data"`
	}
	if err := json.Unmarshal(raw, &passive); err != nil {
		t.Fatalf("reply is not a passive reply: %v\n%s", err, raw)
	}
	data, err := url.QueryUnescape(passive.Data)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal([]byte(data), &msg); err != nil {
		t.Fatalf("data %q: %v", data, err)
	}
	return res.StatusCode, msg.Text
}

func TestEmergencyAndReferralRepliesWeibo(t *testing.T) {
	g := assembleReplyGateway(t)
	status, reply := postWeibo(t, g, "2489518201", strokeText)
	if status != http.StatusOK {
		t.Fatalf("stroke: %d %s", status, reply)
	}
	checkEmergencyReply(t, "weibo", reply)
	status, reply = postWeibo(t, g, "2489518202", debtText)
	if status != http.StatusOK {
		t.Fatalf("debt: %d %s", status, reply)
	}
	checkReferralReply(t, "weibo", reply)
}

// A public Weibo post gets no private details, but an emergency still gets the number to call and
// an out-of-scope matter where to go.
func TestPublicReplyKeepsNumberAndReferral(t *testing.T) {
	r, err := replies.Parse(configs.Messages)
	if err != nil {
		t.Fatal(err)
	}
	urgent, err := r.Render(replies.CaseCreatedPublic, replies.Data{CaseNo: "WH1", QueryCode: "999888", Public: true,
		Emergency: &replies.Emergency{Number: "120", Advice: "请立即拨打120急救电话。"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(urgent, "【紧急】请立即拨打120。") || strings.Contains(urgent, "999888") {
		t.Errorf("public emergency reply: %q", urgent)
	}
	referral, err := r.Render(replies.CaseCreatedPublic, replies.Data{CaseNo: "WH1", Public: true, OutOfScope: true, OutOfScopeReason: "请向人民法院反映或拨打12368。"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(referral, "12368") {
		t.Errorf("public out-of-scope reply: %q", referral)
	}
}
