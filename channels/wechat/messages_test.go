package wechat_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
	"github.com/hotline12345/intake-gateway/internal/app"
)

func ptr[T any](v T) *T { return &v }

var created = time.Unix(1764230400, 0).UTC()

// msg is the submission a message of the table must produce, apart from ChannelID, Raw and
// PayloadHash, which depend on the channel and the request and are checked separately.
func msg(id, text, msgType string, more func(*intake.Submission)) *intake.Submission {
	s := &intake.Submission{
		Channel:    intake.ChannelWeChat,
		ExternalID: id,
		OccurredAt: created,
		Citizen:    intake.CitizenInput{WeChatOpenID: openID},
		Text:       text,
		Metadata:   map[string]string{"wechat_msg_type": msgType},
	}
	if more != nil {
		more(s)
	}
	return s
}

func event(kind app.EventKind, ev string, more func(*app.Event)) *app.Event {
	e := &app.Event{
		Kind:       kind,
		Channel:    intake.ChannelWeChat,
		ExternalID: openID + ":1764230400:" + ev,
		Citizen:    intake.CitizenInput{WeChatOpenID: openID},
	}
	if more != nil {
		more(e)
	}
	return e
}

// messageCases are pushes exactly as WeChat sends them (field sets from the official
// "receiving standard messages" and "event push" pages).
var messageCases = []struct {
	name string
	body string
	// Exactly one of wantMsg / wantEvent is set, or neither: answered "success" without calling
	// the Receiver; then wantUnknown says whether the unknown-type counter must move.
	wantMsg     *intake.Submission
	wantEvent   *app.Event
	wantUnknown string
}{
	{
		name:    "text",
		body:    `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[小区物业拒绝移交业主资料，请协调处理]]></Content><MsgId>24312345678901234</MsgId></xml>`,
		wantMsg: msg("24312345678901234", "小区物业拒绝移交业主资料，请协调处理", "text", nil),
	},
	{
		name: "text, indented, entities outside CDATA, line breaks and emoji",
		body: "<xml>\n  <ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName>\n  <FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName>\n  <CreateTime>1764230400</CreateTime>\n  <MsgType><![CDATA[text]]></MsgType>\n" +
			"  <Content>路灯 &amp; 井盖&lt;坏了&gt;\n第二行😀</Content>\n  <MsgId>24312345678901235</MsgId>\n</xml>",
		wantMsg: msg("24312345678901235", "路灯 & 井盖<坏了>\n第二行😀", "text", nil),
	},
	{
		name: "voice with Recognition",
		body: `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media_voice_1]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[我家楼下的路灯坏了三天了]]></Recognition><MsgId>24312345678901236</MsgId></xml>`,
		wantMsg: msg("24312345678901236", "我家楼下的路灯坏了三天了", "voice", func(s *intake.Submission) {
			s.Attachments = []intake.Attachment{{Kind: intake.AttachmentAudio, MediaID: "media_voice_1", ContentType: "audio/amr", Transcription: "我家楼下的路灯坏了三天了"}}
			s.Metadata["wechat_voice_format"] = "amr"
		}),
	},
	{
		name: "voice without Recognition",
		body: `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media_voice_2]]></MediaId><Format><![CDATA[speex]]></Format><MsgId>24312345678901237</MsgId></xml>`,
		wantMsg: msg("24312345678901237", "[语音]", "voice", func(s *intake.Submission) {
			s.Attachments = []intake.Attachment{{Kind: intake.AttachmentAudio, MediaID: "media_voice_2", ContentType: "audio/speex"}}
			s.Metadata["wechat_voice_format"] = "speex"
		}),
	},
	{
		name: "image",
		body: `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz.qpic.cn/mmbiz_jpg/abc/0]]></PicUrl><MsgId>24312345678901238</MsgId><MediaId><![CDATA[media_image_1]]></MediaId></xml>`,
		wantMsg: msg("24312345678901238", "[图片]", "image", func(s *intake.Submission) {
			s.Attachments = []intake.Attachment{{Kind: intake.AttachmentImage, URL: "http://mmbiz.qpic.cn/mmbiz_jpg/abc/0", MediaID: "media_image_1"}}
		}),
	},
	{
		name: "video",
		body: `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[video]]></MsgType><MediaId><![CDATA[media_video_1]]></MediaId><ThumbMediaId><![CDATA[thumb_1]]></ThumbMediaId><MsgId>24312345678901239</MsgId></xml>`,
		wantMsg: msg("24312345678901239", "[视频]", "video", func(s *intake.Submission) {
			s.Attachments = []intake.Attachment{{Kind: intake.AttachmentVideo, MediaID: "media_video_1"}}
			s.Metadata["wechat_thumb_media_id"] = "thumb_1"
		}),
	},
	{
		name: "shortvideo",
		body: `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[shortvideo]]></MsgType><MediaId><![CDATA[media_sv_1]]></MediaId><ThumbMediaId><![CDATA[thumb_2]]></ThumbMediaId><MsgId>24312345678901240</MsgId></xml>`,
		wantMsg: msg("24312345678901240", "[小视频]", "shortvideo", func(s *intake.Submission) {
			s.Attachments = []intake.Attachment{{Kind: intake.AttachmentVideo, MediaID: "media_sv_1"}}
			s.Metadata["wechat_thumb_media_id"] = "thumb_2"
		}),
	},
	{
		name: "location",
		body: `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[location]]></MsgType><Location_X>37.513790</Location_X><Location_Y>122.120140</Location_Y><Scale>15</Scale><Label><![CDATA[山东省威海市环翠区新威路]]></Label><MsgId>24312345678901241</MsgId></xml>`,
		wantMsg: msg("24312345678901241", "[位置] 山东省威海市环翠区新威路", "location", func(s *intake.Submission) {
			s.Location = &intake.Location{Lat: ptr(37.51379), Lng: ptr(122.12014), Address: "山东省威海市环翠区新威路", Source: intake.LocationGPS}
			s.Metadata["wechat_scale"] = "15"
		}),
	},
	{
		name: "link",
		body: `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[link]]></MsgType><Title><![CDATA[小区违建曝光]]></Title><Description><![CDATA[三楼平台加盖]]></Description><Url><![CDATA[https://mp.weixin.qq.com/s/abc123]]></Url><MsgId>24312345678901242</MsgId></xml>`,
		wantMsg: msg("24312345678901242", "小区违建曝光\n三楼平台加盖", "link", func(s *intake.Submission) {
			s.Attachments = []intake.Attachment{{Kind: intake.AttachmentLink, URL: "https://mp.weixin.qq.com/s/abc123", Title: "小区违建曝光"}}
		}),
	},
	{
		name: "file",
		body: `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[file]]></MsgType><Title><![CDATA[投诉材料.pdf]]></Title><Description><![CDATA[]]></Description><FileKey><![CDATA[fk1]]></FileKey><FileMd5><![CDATA[5a6b]]></FileMd5><FileTotalLen><![CDATA[1024]]></FileTotalLen><MediaId><![CDATA[media_file_1]]></MediaId><MsgId>24312345678901243</MsgId></xml>`,
		wantMsg: msg("24312345678901243", "[文件] 投诉材料.pdf", "file", func(s *intake.Submission) {
			s.Attachments = []intake.Attachment{{Kind: intake.AttachmentFile, MediaID: "media_file_1", Title: "投诉材料.pdf"}}
			s.Metadata["wechat_filekey"] = "fk1"
			s.Metadata["wechat_filemd5"] = "5a6b"
			s.Metadata["wechat_filetotallen"] = "1024"
		}),
	},
	{
		name:      "subscribe",
		body:      `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>`,
		wantEvent: event(app.EventSubscribe, "subscribe", nil),
	},
	{
		name:      "subscribe through a QR code",
		body:      `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_hcq_poster]]></EventKey><Ticket><![CDATA[gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw==]]></Ticket></xml>`,
		wantEvent: event(app.EventSubscribe, "subscribe", func(e *app.Event) { e.Key = "hcq_poster" }),
	},
	{
		name:      "unsubscribe",
		body:      `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event><EventKey><![CDATA[]]></EventKey></xml>`,
		wantEvent: event(app.EventUnsubscribe, "unsubscribe", nil),
	},
	{
		name:      "CLICK",
		body:      `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[HOW_TO_QUERY]]></EventKey></xml>`,
		wantEvent: event(app.EventMenuClick, "click", func(e *app.Event) { e.Key = "HOW_TO_QUERY" }),
	},
	{
		name: "VIEW is answered without the Receiver",
		body: `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[VIEW]]></Event><EventKey><![CDATA[https://hotline.example.gov.cn/guide]]></EventKey><MenuId>208379533</MenuId></xml>`,
	},
	{
		name: "LOCATION event",
		body: `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[LOCATION]]></Event><Latitude>37.513790</Latitude><Longitude>122.120140</Longitude><Precision>65.000000</Precision></xml>`,
		wantEvent: event(app.EventLocation, "location", func(e *app.Event) {
			e.Location = &intake.Location{Lat: ptr(37.51379), Lng: ptr(122.12014), Source: intake.LocationGPS}
		}),
	},
	{
		name:      "SCAN",
		body:      `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>`,
		wantEvent: event(app.EventScan, "scan", func(e *app.Event) { e.Key = "123123" }),
	},
	{
		name:        "unknown MsgType",
		body:        `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[miniprogrampage]]></MsgType><Title><![CDATA[t]]></Title><MsgId>24312345678901244</MsgId></xml>`,
		wantUnknown: "miniprogrampage",
	},
	{
		name:        "unknown event",
		body:        `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>200163836</MsgID><Status><![CDATA[success]]></Status></xml>`,
		wantUnknown: "event:TEMPLATESENDJOBFINISH",
	},
}

// modes are the three ways a push arrives.
var modes = []struct {
	name, channel    string
	safe, compatible bool
}{
	{"plain", chPlain, false, false},
	{"compatible", chCompat, true, true},
	{"safe", chSafe, true, false},
}

func TestEveryMessageTypeInEveryMode(t *testing.T) {
	h := newHarness(t, nil)
	for _, mode := range modes {
		for _, tc := range messageCases {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				h.recv.reset()
				req, err := acct.Build(h.url(mode.channel), wxtest.Request{
					Timestamp: requestTS, Nonce: freshNonce(), Body: tc.body, Safe: mode.safe, Compatible: mode.compatible,
					Random: []byte("a1b2c3d4e5f60718"),
				})
				if err != nil {
					t.Fatal(err)
				}
				sentBody := readAll(t, req)
				unknownBefore := h.counter(t, "intake_wechat_unknown_total", map[string]string{"channel_id": mode.channel, "type": tc.wantUnknown})
				resp := h.do(t, req)
				msgs, events := h.recv.calls()

				var wantReply string
				switch {
				case tc.wantMsg != nil:
					if len(msgs) != 1 || len(events) != 0 {
						t.Fatalf("Receiver got %d messages, %d events; want 1 message (status %d %s)", len(msgs), len(events), resp.status, resp.body)
					}
					got := msgs[0].Submission
					want := *tc.wantMsg
					want.ChannelID = mode.channel
					if string(got.Raw.Body) != sentBody || got.Raw.ContentType != "text/xml" {
						t.Errorf("Raw = %q (%s), want the request body as sent", got.Raw.Body, got.Raw.ContentType)
					}
					sum := sha256.Sum256([]byte(tc.body))
					if got.PayloadHash != hex.EncodeToString(sum[:]) {
						t.Errorf("PayloadHash is not sha256 of the message XML")
					}
					got.Raw, got.PayloadHash = intake.RawPayload{}, ""
					if !reflect.DeepEqual(got, want) {
						t.Errorf("submission\n got %+v\nwant %+v", got, want)
					}
					if msgs[0].Public {
						t.Error("a WeChat message is private")
					}
					wantReply = "收到:" + want.ExternalID
				case tc.wantEvent != nil:
					if len(msgs) != 0 || len(events) != 1 {
						t.Fatalf("Receiver got %d messages, %d events; want 1 event (status %d %s)", len(msgs), len(events), resp.status, resp.body)
					}
					want := *tc.wantEvent
					want.ChannelID = mode.channel
					if !reflect.DeepEqual(events[0], want) {
						t.Errorf("event\n got %+v\nwant %+v", events[0], want)
					}
					if want.Kind != app.EventUnsubscribe {
						wantReply = "收到:" + want.ExternalID
					}
				default:
					if len(msgs)+len(events) != 0 {
						t.Fatalf("Receiver was called for a push that needs no answer")
					}
					after := h.counter(t, "intake_wechat_unknown_total", map[string]string{"channel_id": mode.channel, "type": tc.wantUnknown})
					if tc.wantUnknown != "" && after != unknownBefore+1 {
						t.Errorf("unknown counter %v → %v, want +1", unknownBefore, after)
					}
				}

				if wantReply == "" {
					if resp.status != http.StatusOK || resp.body != "success" {
						t.Fatalf("answer %d %q, want 200 success", resp.status, resp.body)
					}
					return
				}
				r := readReply(t, resp, mode.safe)
				if r.ToUserName != openID || r.FromUserName != acct.GhID || r.MsgType != "text" || r.Content != wantReply || r.CreateTime != testNow.Unix() {
					t.Errorf("reply %+v", r)
				}
			})
		}
	}
}

func readAll(t *testing.T, req *http.Request) string {
	t.Helper()
	if req.GetBody == nil {
		return ""
	}
	rc, err := req.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Compatible mode carries the message twice; only the encrypted copy is authenticated by
// msg_signature, so a tampered plaintext copy must be ignored.
func TestCompatibleModeUsesTheCiphertext(t *testing.T) {
	h := newHarness(t, nil)
	genuine := messageCases[0].body
	enc, err := wxtest.Seal(acct.EncodingAESKey, acct.AppID, make([]byte, 16), []byte(genuine))
	if err != nil {
		t.Fatal(err)
	}
	tampered := `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oAttacker]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[篡改]]></Content><MsgId>1</MsgId><Encrypt><![CDATA[` + enc + `]]></Encrypt></xml>`
	resp := h.send(t, chCompat, wxtest.Request{Safe: true, EncryptOverride: &enc, Envelope: tampered})
	if resp.status != http.StatusOK {
		t.Fatalf("status %d %s", resp.status, resp.body)
	}
	msgs, _ := h.recv.calls()
	if len(msgs) != 1 || msgs[0].Submission.Text != "小区物业拒绝移交业主资料，请协调处理" || msgs[0].Submission.Citizen.WeChatOpenID != openID {
		t.Fatalf("got %+v", msgs)
	}
	readReply(t, resp, true)
}

// A compatible-mode account also accepts plaintext pushes (the console may be mid-switch).
func TestCompatibleModeAcceptsPlaintext(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.send(t, chCompat, wxtest.Request{Body: messageCases[0].body})
	if r := readReply(t, resp, false); r.Content != "收到:24312345678901234" {
		t.Fatalf("reply %+v", r)
	}
}

// The vector request, sent with the query exactly as computed by the npm implementations.
func TestVectorRequest(t *testing.T) {
	v := loadVectors(t)
	s := v.SafeModeRequest
	h := newHarness(t, nil)
	body := `<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><Encrypt><![CDATA[` + s.Encrypt + `]]></Encrypt></xml>`
	q := "?signature=" + s.PlainSignature + "&timestamp=" + s.Timestamp + "&nonce=" + s.Nonce + "&openid=" + openID + "&encrypt_type=aes&msg_signature=" + s.MsgSignature
	req, _ := http.NewRequest(http.MethodPost, h.url(chSafe)+q, strings.NewReader(body))
	resp := h.do(t, req)
	msgs, _ := h.recv.calls()
	if len(msgs) != 1 {
		t.Fatalf("status %d %s; Receiver got %d messages", resp.status, resp.body, len(msgs))
	}
	sum := sha256.Sum256([]byte(s.PlaintextXML))
	if msgs[0].Submission.PayloadHash != hex.EncodeToString(sum[:]) || msgs[0].Submission.ExternalID != "24312345678901234" {
		t.Errorf("submission %+v", msgs[0].Submission)
	}
	if r := readReply(t, resp, true); r.Content != "收到:24312345678901234" {
		t.Errorf("reply %+v", r)
	}
}

func TestURLCheck(t *testing.T) {
	h := newHarness(t, nil)
	v, err := wxtest.LoadVectors(vectorsPath)
	if err == nil {
		u := v.URLCheck
		req, _ := http.NewRequest(http.MethodGet, h.url(chSafe)+"?signature="+u.Signature+"&timestamp="+u.Timestamp+"&nonce="+u.Nonce+"&echostr="+u.EchoStr, nil)
		if resp := h.do(t, req); resp.status != http.StatusOK || resp.body != u.EchoStr {
			t.Fatalf("vector URL check: %d %q", resp.status, resp.body)
		}
	}
	for _, ch := range []string{chPlain, chCompat, chSafe} {
		resp := h.send(t, ch, wxtest.Request{Method: http.MethodGet, EchoStr: "8321875319"})
		if resp.status != http.StatusOK || resp.body != "8321875319" {
			t.Errorf("%s: %d %q", ch, resp.status, resp.body)
		}
	}
	resp := h.send(t, chSafe, wxtest.Request{Method: http.MethodGet, EchoStr: "8321875319", Query: map[string]string{"signature": wxtest.Sign("wrong-token", requestTS, nonce)}})
	if resp.status != http.StatusForbidden || resp.body == "8321875319" {
		t.Errorf("bad signature: %d %q", resp.status, resp.body)
	}
	if msgs, events := h.recv.calls(); len(msgs)+len(events) != 0 {
		t.Error("the URL check reached the Receiver")
	}
}

// Several accounts on one server and one registry: each checks its own token, and the metrics
// are labelled per channel.
func TestChannelsAreIndependent(t *testing.T) {
	h := newHarness(t, nil)
	other := acct
	other.Token = "another-token"
	req, _ := other.Build(h.url(chPlain), wxtest.Request{Timestamp: requestTS, Nonce: nonce, Body: messageCases[0].body})
	if resp := h.do(t, req); resp.status != http.StatusForbidden {
		t.Fatalf("another account's token accepted: %d", resp.status)
	}
	h.send(t, chPlain, wxtest.Request{Body: messageCases[0].body})
	h.send(t, chSafe, wxtest.Request{Body: messageCases[0].body, Safe: true})
	h.send(t, chSafe, wxtest.Request{Body: messageCases[2].body, Safe: true})
	for ch, want := range map[string]float64{chPlain: 1, chSafe: 1, chCompat: 0} {
		if got := h.counter(t, "intake_wechat_requests_total", map[string]string{"channel_id": ch, "type": "text"}); got != want {
			t.Errorf("%s text requests = %v, want %v", ch, got, want)
		}
	}
	if got := h.counter(t, "intake_wechat_rejected_total", map[string]string{"channel_id": chPlain, "reason": "bad_signature"}); got != 1 {
		t.Errorf("rejected{bad_signature} = %v", got)
	}
}

func TestPlaceholdersAreConfigurable(t *testing.T) {
	h := newHarness(t, map[string]any{"placeholders": map[string]any{"image": "[照片]", "voice": "[语音留言]"}})
	h.send(t, chPlain, wxtest.Request{Body: messageCases[4].body}) // image
	h.send(t, chPlain, wxtest.Request{Body: messageCases[3].body}) // voice without Recognition
	msgs, _ := h.recv.calls()
	if len(msgs) != 2 || msgs[0].Submission.Text != "[照片]" || msgs[1].Submission.Text != "[语音留言]" {
		t.Fatalf("texts: %+v", msgs)
	}
}

func TestReplyTextIsEscaped(t *testing.T) {
	h := newHarness(t, nil)
	text := "编号 <WH001> & 查询码 ]]> 123\x01\x7f结束\n第二行"
	h.recv.answer = func(_ context.Context, _ string) (app.Reply, error) { return app.Reply{Text: text}, nil }
	for _, mode := range modes {
		resp := h.send(t, mode.channel, wxtest.Request{Body: messageCases[0].body, Safe: mode.safe, Compatible: mode.compatible})
		r := readReply(t, resp, mode.safe)
		if want := "编号 <WH001> & 查询码 ]]> 123\x7f结束\n第二行"; r.Content != want {
			t.Errorf("%s: Content %q, want %q", mode.name, r.Content, want)
		}
	}
}

func TestTimestampWindowSetting(t *testing.T) {
	h := newHarness(t, map[string]any{"timestamp_window": "30s"})
	for _, tc := range []struct {
		ts   int64
		want int
	}{
		{testNow.Unix() - 30, http.StatusOK},
		{testNow.Unix() + 30, http.StatusOK},
		{testNow.Unix() - 31, http.StatusForbidden},
		{testNow.Unix() + 31, http.StatusForbidden},
	} {
		resp := h.send(t, chPlain, wxtest.Request{Timestamp: strconv.FormatInt(tc.ts, 10), Body: messageCases[0].body})
		if resp.status != tc.want {
			t.Errorf("timestamp now%+d: %d, want %d", tc.ts-testNow.Unix(), resp.status, tc.want)
		}
	}
}
