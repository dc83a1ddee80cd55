package wechat

import (
	"bytes"
	"crypto/rand"
	"strconv"
	"strings"

	"github.com/hotline12345/intake-gateway/channels/wechat/wxcrypto"
)

// textReply is the passive text reply (被动回复文本消息) to the citizen toUser from the account
// fromUser.
func textReply(toUser, fromUser string, createTime int64, text string) []byte {
	var b bytes.Buffer
	b.Grow(160 + len(text))
	b.WriteString("<xml><ToUserName>")
	writeCDATA(&b, toUser)
	b.WriteString("</ToUserName><FromUserName>")
	writeCDATA(&b, fromUser)
	b.WriteString("</FromUserName><CreateTime>")
	b.WriteString(strconv.FormatInt(createTime, 10))
	b.WriteString("</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>")
	writeCDATA(&b, text)
	b.WriteString("</Content></xml>")
	return b.Bytes()
}

// encryptedReply wraps a reply for safe mode: the ciphertext, its MsgSignature, and the
// TimeStamp and Nonce the signature covers. The nonce is fresh rather than echoed, so nothing
// taken from the request is written into the envelope.
func encryptedReply(c *wxcrypto.Cipher, token string, reply []byte, now int64) ([]byte, error) {
	enc, err := c.Encrypt(reply)
	if err != nil {
		return nil, err
	}
	nonce, err := newNonce()
	if err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(now, 10)
	var b bytes.Buffer
	b.Grow(200 + len(enc))
	b.WriteString("<xml><Encrypt><![CDATA[")
	b.WriteString(enc) // base64: never contains ]]>
	b.WriteString("]]></Encrypt><MsgSignature><![CDATA[")
	b.WriteString(wxcrypto.Signature(token, ts, nonce, enc))
	b.WriteString("]]></MsgSignature><TimeStamp>")
	b.WriteString(ts)
	b.WriteString("</TimeStamp><Nonce><![CDATA[")
	b.WriteString(nonce)
	b.WriteString("]]></Nonce></xml>")
	return b.Bytes(), nil
}

// newNonce returns ten random decimal digits, the shape of WeChat's own nonces.
func newNonce() (string, error) {
	var r [10]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	for i := range r {
		r[i] = '0' + r[i]%10
	}
	return string(r[:]), nil
}

// writeCDATA writes s as CDATA. "]]>" inside s is split across two sections, and characters XML
// 1.0 cannot carry (most control characters, invalid UTF-8) are dropped, so no reply text can
// break the document WeChat parses.
func writeCDATA(b *bytes.Buffer, s string) {
	clean := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || r >= 0x10000 {
			return r
		}
		return -1
	}, strings.ToValidUTF8(s, ""))
	b.WriteString("<![CDATA[")
	b.WriteString(strings.ReplaceAll(clean, "]]>", "]]]]><![CDATA[>"))
	b.WriteString("]]>")
}
