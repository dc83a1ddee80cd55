package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/hotline12345/intake-gateway/channels/twilio"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
)

// The accounts of the suite's gateway config (gatewayConfig): a REST key and one WeChat and one
// Twilio channel, signed exactly as the platforms sign.
const (
	restKey      = "chaos-rest-key"
	restKeyName  = "chaos"
	smsChannel   = "sms-chaos"
	twilioSID    = "ACchaos000000000000000000000000000"
	twilioToken  = "chaosauthtoken00000000000000000aa"
	wechatChan   = "wechat-chaos"
	caseNoPrefix = "CH"
)

var wechatAccount = wxtest.Account{Token: "chaostoken", EncodingAESKey: "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
	AppID: "wxchaos0000000001", GhID: "gh_chaos00000001"}

var caseNoRe = regexp.MustCompile(caseNoPrefix + `[0-9]{13}`)

// texts are everyday matters; each submission comes from a citizen of its own, so repeat
// detection links none of them and every acknowledged submission is one case.
var texts = []string{
	"小区门口的路灯坏了一个多星期，晚上出行很不方便，请尽快维修",
	"楼下餐馆油烟很大，影响居民正常生活，希望有关部门处理",
	"公交站台的座椅损坏，老人等车没有地方坐，请安排修理",
	"咨询一下新生儿医保怎么办理，需要准备哪些材料",
	"建议在学校门口增设人行横道和减速带，保障学生安全",
	"小区供暖温度不达标，室内只有十四度，请协调热力公司",
}

// ack is one submission the gateway acknowledged: a 2xx with the case it made.
type ack struct {
	Kind       string // rest, sms, wechat
	ChannelID  string
	ExternalID string
	ID         string // REST answers carry the case id
	CaseNo     string
	At         time.Time
}

// submission is one message as a client or platform sends it, resent unchanged on failure.
type submission struct {
	kind, channelID, externalID string
	req                         func(ctx context.Context) (*http.Request, error)
}

// loader sends a mix of REST submissions (7 in 10), Twilio SMS (2 in 10) and WeChat pushes (1
// in 10) at a steady rate, and records every acknowledgement. A failed attempt (no answer, 5xx,
// 429) is sent again unchanged after a pause, a few times, as a platform or a careful client
// does; a submission whose tries all fail is counted as refused, never as acknowledged.
type loader struct {
	base   string // gateway URL
	tag    string // keeps the ids of one run and fault apart from the others'
	client *http.Client
	seq    atomic.Int64

	mu       sync.Mutex
	acks     []ack
	attempts int
	statuses map[string]int // "201", "503", "error", …
	gaveUp   int
}

// newLoader numbers its messages from first up: every loader of a run needs a range of its
// own, because the numbers make the citizens' phone numbers and WeChat MsgIds, and a citizen
// writing again within minutes adds to their open case instead of opening a new one.
func newLoader(base, tag string, first int64) *loader {
	l := &loader{base: base, tag: tag, statuses: map[string]int{},
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	l.seq.Store(first)
	return l
}

// run sends at perSecond until ctx ends, with workers senders.
func (l *loader) run(ctx context.Context, perSecond float64, workers int) {
	lim := rate.NewLimiter(rate.Limit(perSecond), 1)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if lim.Wait(ctx) != nil {
					return
				}
				l.send(ctx, lim, l.next())
			}
		}()
	}
	wg.Wait()
}

func (l *loader) next() submission {
	n := l.seq.Add(1)
	text := texts[int(n)%len(texts)]
	switch n % 10 {
	case 7, 8:
		return l.sms(n, text)
	case 9:
		return l.wechat(n, text)
	default:
		return l.rest(n, text)
	}
}

func (l *loader) rest(n int64, text string) submission {
	key := fmt.Sprintf("%s-%d", l.tag, n)
	body, _ := json.Marshal(map[string]any{"text": text, "citizen": map[string]any{"phone": fmt.Sprintf("139%08d", n%100_000_000)}})
	return submission{kind: "rest", channelID: "rest:" + restKeyName, externalID: key, req: func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, "POST", l.base+"/v1/submissions", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+restKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		return req, nil
	}}
}

func (l *loader) sms(n int64, text string) submission {
	return smsSubmission(l.base, twilioToken, fmt.Sprintf("SM%s%020d", alnum(l.tag), n), fmt.Sprintf("+86138%08d", n%100_000_000), text)
}

// smsSubmission is an inbound SMS as Twilio posts it, signed with token.
func smsSubmission(base, token, sid, from, text string) submission {
	target := base + "/hooks/twilio/" + smsChannel + "/sms"
	form := url.Values{"AccountSid": {twilioSID}, "ApiVersion": {"2010-04-01"}, "Body": {text},
		"From": {from}, "To": {"+15005550006"}, "MessageSid": {sid}, "NumMedia": {"0"}}
	sig := twilio.Signature(token, target, form)
	body := form.Encode()
	return submission{kind: "sms", channelID: smsChannel, externalID: sid, req: func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, "POST", target, bytes.NewBufferString(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		return req, nil
	}}
}

// wechatBase keeps MsgIds of different runs apart (they are the messages' identity).
var wechatBase = 20_000_000_000_000_000 + rand.Int64N(70_000_000_000_000_000)

func (l *loader) wechat(n int64, text string) submission {
	msgID := strconv.FormatInt(wechatBase+n, 10)
	return wechatSubmission(l.base, msgID, fmt.Sprintf("o%s%010d", alnum(l.tag), n), text, false)
}

// wechatSubmission is a text message as WeChat pushes it in plaintext mode; badSignature signs
// it with another token.
func wechatSubmission(base, msgID, openID, text string, badSignature bool) submission {
	created := strconv.FormatInt(time.Now().Unix(), 10)
	msg := fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%s</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%s</MsgId></xml>`,
		wechatAccount.GhID, openID, created, text, msgID)
	return submission{kind: "wechat", channelID: wechatChan, externalID: msgID, req: func(ctx context.Context) (*http.Request, error) {
		// WeChat signs every retry anew (a fresh timestamp and nonce); the message itself, its
		// MsgId and CreateTime, stays the same.
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		acct := wechatAccount
		if badSignature {
			acct.Token = "not-the-token"
		}
		req, err := acct.Build(base+"/hooks/wechat/"+wechatChan, wxtest.Request{Timestamp: ts, Nonce: strconv.FormatUint(rand.Uint64(), 36), Body: msg})
		if err != nil {
			return nil, err
		}
		return req.WithContext(ctx), nil
	}}
}

func alnum(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			out = append(out, c)
		}
	}
	return string(out)
}

// send tries s up to five times; every try takes a token of the rate, so an outage does not
// turn the load into a storm of retries.
func (l *loader) send(ctx context.Context, lim *rate.Limiter, s submission) {
	for try := 0; try < 5; try++ {
		if try > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(300 * time.Millisecond):
			}
			if lim.Wait(ctx) != nil {
				return
			}
		}
		status, a, err := attempt(ctx, l.client, s)
		l.mu.Lock()
		l.attempts++
		if err != nil {
			l.statuses["error"]++
		} else {
			l.statuses[strconv.Itoa(status)]++
		}
		l.mu.Unlock()
		if err == nil && status >= 200 && status < 300 {
			l.mu.Lock()
			l.acks = append(l.acks, a)
			l.mu.Unlock()
			return
		}
		if err == nil && status != http.StatusTooManyRequests && status < 500 {
			break // refused for good: the request itself is wrong, sending it again is pointless
		}
		if ctx.Err() != nil {
			return
		}
	}
	l.mu.Lock()
	l.gaveUp++
	l.mu.Unlock()
}

func attempt(ctx context.Context, client *http.Client, s submission) (int, ack, error) {
	req, err := s.req(ctx)
	if err != nil {
		return 0, ack{}, err
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, ack{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		// The answer was cut off: the client does not know whether it was acknowledged.
		return 0, ack{}, err
	}
	a := ack{Kind: s.kind, ChannelID: s.channelID, ExternalID: s.externalID, At: time.Now()}
	if s.kind == "rest" {
		var m struct {
			ID     string `json:"id"`
			CaseNo string `json:"case_no"`
		}
		if json.Unmarshal(body, &m) == nil {
			a.ID, a.CaseNo = m.ID, m.CaseNo
		}
	} else {
		a.CaseNo = caseNoRe.FindString(string(body))
	}
	return res.StatusCode, a, nil
}

func (l *loader) snapshot() (acks []ack, attempts, gaveUp int, statuses map[string]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	statuses = map[string]int{}
	for k, v := range l.statuses {
		statuses[k] = v
	}
	return append([]ack(nil), l.acks...), l.attempts, l.gaveUp, statuses
}
