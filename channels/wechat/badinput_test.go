package wechat_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
)

const textBody = `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[路灯坏了]]></Content><MsgId>24312345678901299</MsgId></xml>`

// withField returns textBody with one element replaced (or removed when value is "").
func withField(tag, value string) string {
	start := strings.Index(textBody, "<"+tag+">")
	end := strings.Index(textBody, "</"+tag+">") + len("</"+tag+">")
	if value == "" {
		return textBody[:start] + textBody[end:]
	}
	return textBody[:start] + "<" + tag + ">" + value + "</" + tag + ">" + textBody[end:]
}

// sealRaw encrypts a hand-made plaintext layout (for broken paddings and prefixes).
func sealRaw(t *testing.T, p []byte) string {
	t.Helper()
	enc, err := wxtest.SealRaw(acct.EncodingAESKey, p)
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// layout is random16 | be32(n) | msg | appID | pad, with pad filling up to a multiple of 32 using
// the given pad byte value for every pad byte except the last, which is last.
func layout(n uint32, msg, appID string, padByte, last byte) []byte {
	p := append(make([]byte, 16), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	p = append(p, msg...)
	p = append(p, appID...)
	k := 32 - len(p)%32
	for i := 0; i < k-1; i++ {
		p = append(p, padByte)
	}
	return append(p, last)
}

func TestBadInput(t *testing.T) {
	h := newHarness(t, nil)
	s := func(v string) *string { return &v }
	wellPadded := func(n uint32, msg, appID string) []byte {
		l := 20 + len(msg) + len(appID)
		k := byte(32 - l%32)
		return layout(n, msg, appID, k, k)
	}
	otherApp, _ := wxtest.Seal(acct.EncodingAESKey, "wx0000000000000000", make([]byte, 16), []byte(textBody))
	doctypeInner, _ := wxtest.Seal(acct.EncodingAESKey, acct.AppID, make([]byte, 16), []byte(`<!DOCTYPE xml [<!ENTITY e "x">]>`+textBody))
	big := withField("Content", "<![CDATA["+strings.Repeat("长", 64<<10/3+1)+"]]>")

	cases := []struct {
		name    string
		channel string
		req     wxtest.Request
		// raw, when set, replaces the helper: a request built by hand.
		raw        func() *http.Request
		wantStatus int
		wantBody   string
	}{
		// Authentication of every request.
		{"missing signature", chPlain, wxtest.Request{Body: textBody, Delete: []string{"signature"}}, nil, 403, "missing signature"},
		{"wrong signature", chPlain, wxtest.Request{Body: textBody, Nonce: nonce, Query: map[string]string{"signature": wxtest.Sign("not-the-token", requestTS, nonce)}}, nil, 403, "invalid signature"},
		{"signature in upper case", chPlain, wxtest.Request{Body: textBody, Nonce: nonce, Query: map[string]string{"signature": strings.ToUpper(wxtest.Sign(acct.Token, requestTS, nonce))}}, nil, 403, "invalid signature"},
		{"signature over another nonce", chPlain, wxtest.Request{Body: textBody, Query: map[string]string{"nonce": "999"}}, nil, 403, "invalid signature"},
		{"GET with wrong signature", chPlain, wxtest.Request{Method: "GET", EchoStr: "1", Query: map[string]string{"signature": "0000"}}, nil, 403, "invalid signature"},
		{"GET without echostr", chPlain, wxtest.Request{Method: "GET", Delete: []string{"echostr"}}, nil, 400, "echostr"},
		{"missing timestamp", chPlain, wxtest.Request{Body: textBody, Delete: []string{"timestamp"}}, nil, 400, "missing timestamp"},
		{"missing nonce", chPlain, wxtest.Request{Body: textBody, Delete: []string{"nonce"}}, nil, 400, "missing nonce"},
		{"non-numeric timestamp", chPlain, wxtest.Request{Body: textBody, Timestamp: "17642x0400"}, nil, 400, "invalid timestamp"},
		{"negative timestamp", chPlain, wxtest.Request{Body: textBody, Timestamp: "-1764230400"}, nil, 400, "invalid timestamp"},
		{"timestamp in milliseconds", chPlain, wxtest.Request{Body: textBody, Timestamp: "1764230400000"}, nil, 400, "invalid timestamp"},
		{"stale timestamp (5 min + 1 s)", chPlain, wxtest.Request{Body: textBody, Timestamp: strconv.FormatInt(testNow.Unix()-301, 10)}, nil, 403, "timestamp outside"},
		{"future timestamp (5 min + 1 s)", chPlain, wxtest.Request{Body: textBody, Timestamp: strconv.FormatInt(testNow.Unix()+301, 10)}, nil, 403, "timestamp outside"},
		{"control: timestamp 5 min old", chPlain, wxtest.Request{Body: textBody, Timestamp: strconv.FormatInt(testNow.Unix()-300, 10)}, nil, 200, "收到:"},

		// Safe mode.
		{"safe: plaintext push", chSafe, wxtest.Request{Body: textBody}, nil, 403, "safe mode"},
		{"safe: missing msg_signature", chSafe, wxtest.Request{Body: textBody, Safe: true, Delete: []string{"msg_signature"}}, nil, 403, "missing msg_signature"},
		{"safe: wrong msg_signature", chSafe, wxtest.Request{Body: textBody, Nonce: nonce, Safe: true, Query: map[string]string{"msg_signature": wxtest.Sign(acct.Token, requestTS, nonce)}}, nil, 403, "invalid msg_signature"},
		{"safe: valid msg_signature but wrong signature", chSafe, wxtest.Request{Body: textBody, Safe: true, Query: map[string]string{"signature": "x"}}, nil, 403, "invalid signature"},
		{"safe: encrypt_type=aes without Encrypt", chSafe, wxtest.Request{Body: textBody, Query: map[string]string{"encrypt_type": "aes", "msg_signature": "x"}}, nil, 400, "missing Encrypt"},
		{"safe: ciphertext not base64", chSafe, wxtest.Request{Safe: true, EncryptOverride: s("@@@@")}, nil, 400, "base64"},
		{"safe: ciphertext of 48 bytes", chSafe, wxtest.Request{Safe: true, EncryptOverride: s(base64.StdEncoding.EncodeToString(make([]byte, 48)))}, nil, 400, "multiple of 32"},
		{"safe: pad byte 0", chSafe, wxtest.Request{Safe: true, EncryptOverride: s(sealRaw(t, layout(uint32(len(textBody)), textBody, acct.AppID, 0, 0)))}, nil, 400, "padding"},
		{"safe: inconsistent pad bytes", chSafe, wxtest.Request{Safe: true, EncryptOverride: s(sealRaw(t, layout(uint32(len(textBody)), textBody, acct.AppID, 3, 9)))}, nil, 400, "padding"},
		{"safe: length prefix too large", chSafe, wxtest.Request{Safe: true, EncryptOverride: s(sealRaw(t, wellPadded(uint32(len(textBody))+100, textBody, acct.AppID)))}, nil, 400, "length prefix"},
		{"safe: length prefix too small", chSafe, wxtest.Request{Safe: true, EncryptOverride: s(sealRaw(t, wellPadded(uint32(len(textBody))-6, textBody, acct.AppID)))}, nil, 403, "another AppID"},
		{"safe: another AppID", chSafe, wxtest.Request{Safe: true, EncryptOverride: &otherApp}, nil, 403, "another AppID"},
		{"safe: DOCTYPE inside the ciphertext", chSafe, wxtest.Request{Safe: true, EncryptOverride: &doctypeInner}, nil, 400, "DOCTYPE"},
		{"safe: envelope is not XML", chSafe, wxtest.Request{Safe: true, Body: textBody, Envelope: "Encrypt=abc"}, nil, 400, "XML"},
		{"plain channel without key: encrypted push", chPlain, wxtest.Request{Safe: true, Body: textBody}, nil, 400, "no encoding_aes_key"},

		// Body.
		{"empty body", chPlain, wxtest.Request{Body: ""}, nil, 400, "empty body"},
		{"unclosed element", chPlain, wxtest.Request{Body: strings.TrimSuffix(textBody, "</xml>")}, nil, 400, "malformed XML"},
		{"mismatched end tag", chPlain, wxtest.Request{Body: strings.Replace(textBody, "</Content>", "</Contents>", 1)}, nil, 400, "malformed XML"},
		{"root is not <xml>", chPlain, wxtest.Request{Body: strings.ReplaceAll(textBody, "xml>", "msg>")}, nil, 400, "root element"},
		{"two roots", chPlain, wxtest.Request{Body: textBody + textBody}, nil, 400, "more than one root"},
		{"text after the root", chPlain, wxtest.Request{Body: textBody + "trailing"}, nil, 400, "outside the root"},
		{"JSON body", chPlain, wxtest.Request{Body: `{"ToUserName":"gh_0a1b2c3d4e5f","MsgType":"text","Content":"x"}`}, nil, 400, "malformed XML"},
		{"duplicate element", chPlain, wxtest.Request{Body: strings.Replace(textBody, "<MsgId>", "<Content>x</Content><MsgId>", 1)}, nil, 400, "twice"},
		{"DOCTYPE with internal entity", chPlain, wxtest.Request{Body: `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x "路灯">]>` + strings.Replace(textBody, "<![CDATA[路灯坏了]]>", "&x;", 1)}, nil, 400, "DOCTYPE"},
		{"external entity", chPlain, wxtest.Request{Body: `<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + strings.Replace(textBody, "<![CDATA[路灯坏了]]>", "&xxe;", 1)}, nil, 400, "DOCTYPE"},
		{"billion laughs", chPlain, wxtest.Request{Body: `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>` + strings.Replace(textBody, "<![CDATA[路灯坏了]]>", "&lol2;", 1)}, nil, 400, "DOCTYPE"},
		{"undeclared entity", chPlain, wxtest.Request{Body: strings.Replace(textBody, "<![CDATA[路灯坏了]]>", "&nbsp;", 1)}, nil, 400, "malformed XML"},
		{"GBK encoding declared", chPlain, wxtest.Request{Body: `<?xml version="1.0" encoding="GBK"?>` + textBody}, nil, 400, "malformed XML"},
		{"processing instruction", chPlain, wxtest.Request{Body: `<?xml-stylesheet href="x"?>` + textBody}, nil, 400, "processing instruction"},
		{"invalid UTF-8", chPlain, wxtest.Request{Body: strings.Replace(textBody, "路灯坏了", "\xff\xfe", 1)}, nil, 400, "malformed XML"},
		{"body over 64 KiB", chPlain, wxtest.Request{Body: big}, nil, 413, "too large"},
		{"body over 64 KiB without Content-Length", chPlain, wxtest.Request{}, func() *http.Request {
			req, _ := acct.Build(h.url(chPlain), wxtest.Request{Timestamp: requestTS, Nonce: nonce, Body: big})
			req.ContentLength = -1
			req.Body = io.NopCloser(strings.NewReader(big))
			req.GetBody = nil
			return req
		}, 413, "too large"},
		{"safe: body over 64 KiB", chSafe, wxtest.Request{Body: big, Safe: true}, nil, 413, "too large"},

		// Fields.
		{"ToUserName of another account", chPlain, wxtest.Request{Body: withField("ToUserName", "<![CDATA[gh_ffffffffffff]]>")}, nil, 403, "not this account"},
		{"safe: ToUserName of another account", chSafe, wxtest.Request{Safe: true, Body: withField("ToUserName", "<![CDATA[gh_ffffffffffff]]>")}, nil, 403, "not this account"},
		{"missing ToUserName", chPlain, wxtest.Request{Body: withField("ToUserName", "")}, nil, 400, "ToUserName"},
		{"missing FromUserName", chPlain, wxtest.Request{Body: withField("FromUserName", "")}, nil, 400, "FromUserName"},
		{"FromUserName with spaces", chPlain, wxtest.Request{Body: withField("FromUserName", "o x")}, nil, 400, "FromUserName"},
		{"missing CreateTime", chPlain, wxtest.Request{Body: withField("CreateTime", "")}, nil, 400, "CreateTime"},
		{"CreateTime not a number", chPlain, wxtest.Request{Body: withField("CreateTime", "2026-11-27")}, nil, 400, "CreateTime"},
		{"missing MsgType", chPlain, wxtest.Request{Body: withField("MsgType", "")}, nil, 400, "MsgType"},
		{"missing MsgId", chPlain, wxtest.Request{Body: withField("MsgId", "")}, nil, 400, "MsgId"},
		{"empty text", chPlain, wxtest.Request{Body: withField("Content", "<![CDATA[]]>")}, nil, 400, "empty text"},
		{"blank text", chPlain, wxtest.Request{Body: withField("Content", "<![CDATA[ \n\t　]]>")}, nil, 400, "empty text"},
		{"safe: empty text", chSafe, wxtest.Request{Safe: true, Body: withField("Content", "")}, nil, 400, "empty text"},
		{"location out of range", chPlain, wxtest.Request{Body: `<xml><ToUserName>gh_0a1b2c3d4e5f</ToUserName><FromUserName>o1</FromUserName><CreateTime>1764230400</CreateTime><MsgType>location</MsgType><Location_X>137.5</Location_X><Location_Y>122.1</Location_Y><MsgId>1</MsgId></xml>`}, nil, 400, "Location_X"},
		{"location not a number", chPlain, wxtest.Request{Body: `<xml><ToUserName>gh_0a1b2c3d4e5f</ToUserName><FromUserName>o1</FromUserName><CreateTime>1764230400</CreateTime><MsgType>location</MsgType><Location_X>NaN</Location_X><Location_Y>122.1</Location_Y><MsgId>1</MsgId></xml>`}, nil, 400, "Location_X"},
		{"LOCATION event without coordinates", chPlain, wxtest.Request{Body: `<xml><ToUserName>gh_0a1b2c3d4e5f</ToUserName><FromUserName>o1</FromUserName><CreateTime>1764230400</CreateTime><MsgType>event</MsgType><Event>LOCATION</Event></xml>`}, nil, 400, "Latitude"},
		{"image without media", chPlain, wxtest.Request{Body: `<xml><ToUserName>gh_0a1b2c3d4e5f</ToUserName><FromUserName>o1</FromUserName><CreateTime>1764230400</CreateTime><MsgType>image</MsgType><PicUrl>javascript:alert(1)</PicUrl><MsgId>1</MsgId></xml>`}, nil, 400, "MediaId"},
		{"image with an https PicUrl but no MediaId", chPlain, wxtest.Request{Body: `<xml><ToUserName>gh_0a1b2c3d4e5f</ToUserName><FromUserName>o1</FromUserName><CreateTime>1764230400</CreateTime><MsgType>image</MsgType><PicUrl>https://mmbiz.qpic.cn/mmbiz_jpg/x/0</PicUrl><MsgId>24312345678901300</MsgId></xml>`}, nil, 400, "missing MediaId"},
		{"image with a MediaId holding spaces", chPlain, wxtest.Request{Body: `<xml><ToUserName>gh_0a1b2c3d4e5f</ToUserName><FromUserName>o1</FromUserName><CreateTime>1764230400</CreateTime><MsgType>image</MsgType><PicUrl>https://mmbiz.qpic.cn/x</PicUrl><MediaId>a b</MediaId><MsgId>24312345678901300</MsgId></xml>`}, nil, 400, "invalid MediaId"},
		{"voice without MediaId", chPlain, wxtest.Request{Body: `<xml><ToUserName>gh_0a1b2c3d4e5f</ToUserName><FromUserName>o1</FromUserName><CreateTime>1764230400</CreateTime><MsgType>voice</MsgType><Format>amr</Format><Recognition>路灯坏了</Recognition><MsgId>24312345678901301</MsgId></xml>`}, nil, 400, "missing MediaId"},
		{"video without MediaId", chPlain, wxtest.Request{Body: `<xml><ToUserName>gh_0a1b2c3d4e5f</ToUserName><FromUserName>o1</FromUserName><CreateTime>1764230400</CreateTime><MsgType>video</MsgType><ThumbMediaId>t1</ThumbMediaId><MsgId>24312345678901302</MsgId></xml>`}, nil, 400, "missing MediaId"},
		{"shortvideo without MediaId", chPlain, wxtest.Request{Body: `<xml><ToUserName>gh_0a1b2c3d4e5f</ToUserName><FromUserName>o1</FromUserName><CreateTime>1764230400</CreateTime><MsgType>shortvideo</MsgType><ThumbMediaId>t1</ThumbMediaId><MsgId>24312345678901303</MsgId></xml>`}, nil, 400, "missing MediaId"},
		{"MsgId zero", chPlain, wxtest.Request{Body: withField("MsgId", "0")}, nil, 400, "MsgId"},
		{"MsgId negative", chPlain, wxtest.Request{Body: withField("MsgId", "-24312345678901299")}, nil, 400, "MsgId"},
		{"MsgId with a plus sign", chPlain, wxtest.Request{Body: withField("MsgId", "+24312345678901299")}, nil, 400, "MsgId"},
		{"MsgId not a number", chPlain, wxtest.Request{Body: withField("MsgId", "msg-1")}, nil, 400, "MsgId"},
		{"MsgId beyond 64 bits", chPlain, wxtest.Request{Body: withField("MsgId", "99999999999999999999")}, nil, 400, "MsgId"},
		{"CreateTime before 2000", chPlain, wxtest.Request{Body: withField("CreateTime", "946684799")}, nil, 400, "CreateTime before 2000"},
		{"CreateTime of one second", chPlain, wxtest.Request{Body: withField("CreateTime", "1")}, nil, 400, "CreateTime before 2000"},
		{"safe: CreateTime before 2000", chSafe, wxtest.Request{Safe: true, Body: withField("CreateTime", "946684799")}, nil, 400, "CreateTime before 2000"},
		{"event with CreateTime before 2000", chPlain, wxtest.Request{Body: `<xml><ToUserName>gh_0a1b2c3d4e5f</ToUserName><FromUserName>o1</FromUserName><CreateTime>946684799</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>`}, nil, 400, "CreateTime before 2000"},
		{"control: CreateTime at 2000-01-01", chPlain, wxtest.Request{Body: withField("CreateTime", "946684800")}, nil, 200, "收到:"},
		{"event without Event", chPlain, wxtest.Request{Body: `<xml><ToUserName>gh_0a1b2c3d4e5f</ToUserName><FromUserName>o1</FromUserName><CreateTime>1764230400</CreateTime><MsgType>event</MsgType></xml>`}, nil, 400, "Event"},

		// Routing.
		{"channel id not configured", "wx-unknown", wxtest.Request{Body: textBody}, nil, 404, ""},
		{"PUT", chPlain, wxtest.Request{Method: http.MethodPut, Body: textBody}, nil, 405, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.recv.reset()
			var resp response
			if tc.raw != nil {
				resp = h.do(t, tc.raw())
			} else {
				resp = h.send(t, tc.channel, tc.req)
			}
			if resp.status != tc.wantStatus || !strings.Contains(resp.body, tc.wantBody) {
				t.Fatalf("answer %d %.200q, want %d containing %q", resp.status, resp.body, tc.wantStatus, tc.wantBody)
			}
			msgs, events := h.recv.calls()
			if tc.wantStatus == 200 {
				if len(msgs) != 1 {
					t.Fatalf("control case: Receiver got %d messages", len(msgs))
				}
				return
			}
			if len(msgs)+len(events) != 0 {
				t.Fatalf("refused request reached the Receiver")
			}
			if tc.wantStatus < 404 && !strings.HasPrefix(resp.contentType, "text/plain") {
				t.Errorf("refusal content type %q, want text/plain", resp.contentType)
			}
		})
	}
}
