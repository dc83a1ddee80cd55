package wechat

import (
	"testing"
	"unicode/utf8"
)

// FuzzParseFields: the parser never panics, refuses what is not flat UTF-8 <xml>, and every
// value it accepts survives a round trip through the reply writer unchanged (so CDATA escaping
// and character filtering are exact for anything a citizen can send).
func FuzzParseFields(f *testing.F) {
	for _, s := range []string{
		`<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><FromUserName><![CDATA[oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[小区物业拒绝移交业主资料，请协调处理]]></Content><MsgId>24312345678901234</MsgId></xml>`,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xml>\n <Content>a &amp; b &lt;c&gt; ]]&gt;</Content>\n <!-- note -->\n</xml>\n",
		`<xml><ToUserName><![CDATA[gh_0a1b2c3d4e5f]]></ToUserName><Encrypt><![CDATA[fBsw2tEPuqC95T/MQ9LZGSivn/4pewzjOkHPcq3GUSf4]]></Encrypt></xml>`,
		`<xml><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo><Event>scancode_push</Event></xml>`,
		`<!DOCTYPE xml [<!ENTITY x "y">]><xml><Content>&x;</Content></xml>`,
		`<xml><Content><![CDATA[a]]]]><![CDATA[>b]]></Content></xml>`,
		`<xml><a:Content xmlns:a="urn:x">v</a:Content></xml>`,
		`<xml/>`, ``, `<xml>`, `</xml>`, `<xml></xml><xml></xml>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		fs, err := parseFields(doc)
		if err != nil {
			return
		}
		for k, v := range fs {
			if !utf8.ValidString(v) {
				t.Fatalf("field %s is not valid UTF-8", k)
			}
			back, err := parseFields(textReply("o", "gh", 1, v))
			if err != nil {
				t.Fatalf("reply with content %q does not parse: %v", v, err)
			}
			if back["Content"] != v {
				t.Fatalf("round trip changed %q to %q", v, back["Content"])
			}
		}
	})
}
