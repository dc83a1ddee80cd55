// Package wxtest plays WeChat's side in tests: it signs and encrypts requests the way WeChat's
// servers do, decrypts the gateway's replies, and serves a fake WeChat API (fakeapi.go).
//
// The signing and AES code here is a second implementation, deliberately independent of
// channels/wechat/wxcrypto (the code under test): written separately, in a different shape
// (explicit block-by-block CBC, string sorting with package sort), and checked on its own against
// internal/testvectors/vectors.json, which was computed with the npm packages @wecom/crypto and
// wechat-crypto. A mistake shared by both implementations would have to agree with those too.
package wxtest

import (
	"bytes"
	"crypto/aes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Sign is WeChat's signature: SHA-1 over the sorted, concatenated parts, lowercase hex.
func Sign(parts ...string) string {
	p := append([]string(nil), parts...)
	sort.Strings(p)
	return fmt.Sprintf("%x", sha1.Sum([]byte(strings.Join(p, ""))))
}

func aesKey(encodingAESKey string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil {
		return nil, err
	}
	if len(k) != 32 {
		return nil, fmt.Errorf("aes key is %d bytes", len(k))
	}
	return k, nil
}

// Seal builds random ‖ be32(len(msg)) ‖ msg ‖ appID, pads it PKCS#7 to 32 and encrypts it with
// AES-256-CBC (IV = key[:16]); it returns the base64 text WeChat puts in <Encrypt>.
func Seal(encodingAESKey, appID string, random []byte, msg []byte) (string, error) {
	if len(random) != 16 {
		return "", errors.New("random prefix must be 16 bytes")
	}
	key, err := aesKey(encodingAESKey)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	buf.Write(random)
	l := len(msg)
	buf.Write([]byte{byte(l >> 24), byte(l >> 16), byte(l >> 8), byte(l)})
	buf.Write(msg)
	buf.WriteString(appID)
	padLen := 32 - buf.Len()%32
	buf.Write(bytes.Repeat([]byte{byte(padLen)}, padLen))
	return base64.StdEncoding.EncodeToString(cbc(key, buf.Bytes(), true)), nil
}

// SealRaw encrypts an already laid-out plaintext (whose length must be a multiple of 16) without
// adding anything: for building deliberately broken ciphertexts (bad padding, wrong length).
func SealRaw(encodingAESKey string, plaintext []byte) (string, error) {
	key, err := aesKey(encodingAESKey)
	if err != nil {
		return "", err
	}
	if len(plaintext)%16 != 0 {
		return "", errors.New("plaintext must be a multiple of 16 bytes")
	}
	return base64.StdEncoding.EncodeToString(cbc(key, plaintext, true)), nil
}

// Unseal decrypts an <Encrypt> value and returns the message and the AppID that trails it.
func Unseal(encodingAESKey, encrypted string) (msg []byte, appID string, err error) {
	key, err := aesKey(encodingAESKey)
	if err != nil {
		return nil, "", err
	}
	raw, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil {
		return nil, "", err
	}
	if len(raw) == 0 || len(raw)%32 != 0 {
		return nil, "", fmt.Errorf("ciphertext length %d", len(raw))
	}
	p := cbc(key, raw, false)
	padLen := int(p[len(p)-1])
	if padLen == 0 || padLen > 32 || !bytes.Equal(p[len(p)-padLen:], bytes.Repeat([]byte{byte(padLen)}, padLen)) {
		return nil, "", errors.New("bad padding")
	}
	p = p[:len(p)-padLen]
	if len(p) < 20 {
		return nil, "", errors.New("short plaintext")
	}
	l := int(p[16])<<24 | int(p[17])<<16 | int(p[18])<<8 | int(p[19])
	if l > len(p)-20 {
		return nil, "", errors.New("bad length")
	}
	return p[20 : 20+l], string(p[20+l:]), nil
}

// cbc runs AES-CBC by hand, one 16-byte block at a time, with IV = key[:16].
func cbc(key, in []byte, encrypt bool) []byte {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // key length was checked by the callers
	}
	out := make([]byte, len(in))
	prev := append([]byte(nil), key[:16]...)
	for off := 0; off < len(in); off += 16 {
		blk := make([]byte, 16)
		if encrypt {
			for i := range blk {
				blk[i] = in[off+i] ^ prev[i]
			}
			b.Encrypt(out[off:off+16], blk)
			prev = out[off : off+16]
		} else {
			b.Decrypt(blk, in[off:off+16])
			for i := range blk {
				out[off+i] = blk[i] ^ prev[i]
			}
			prev = in[off : off+16]
		}
	}
	return out
}

// Account is one official account as WeChat's servers know it.
type Account struct {
	Token          string
	EncodingAESKey string
	AppID          string
	// GhID is the account's original id (gh_…), the ToUserName of every message.
	GhID string
}

// Request describes one push from WeChat to the gateway.
type Request struct {
	Method    string // GET or POST (default)
	Timestamp string
	Nonce     string
	// Body is the plaintext message XML. With Safe it is encrypted into an envelope.
	Body string
	Safe bool
	// Compatible puts the plaintext fields beside <Encrypt> (兼容模式) when Safe is set.
	Compatible bool
	// Random is the 16-byte prefix of the plaintext; zero bytes when nil.
	Random []byte
	// EchoStr is the GET URL-check challenge.
	EchoStr string
	// Query sets and Delete removes query parameters after signing, to build bad requests:
	// e.g. Query {"signature": "bad"}, Delete ["msg_signature"].
	Query  map[string]string
	Delete []string
	// Envelope overrides the encrypted envelope body (Safe): for malformed ciphertexts.
	Envelope string
	// EncryptOverride signs and sends this Encrypt value instead of encrypting Body.
	EncryptOverride *string
}

// Build returns the HTTP request WeChat would send to target (the full webhook URL).
func (a Account) Build(target string, r Request) (*http.Request, error) {
	q := url.Values{}
	q.Set("timestamp", r.Timestamp)
	q.Set("nonce", r.Nonce)
	q.Set("signature", Sign(a.Token, r.Timestamp, r.Nonce))
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	var body string
	if method == http.MethodGet {
		q.Set("echostr", r.EchoStr)
	} else if r.Safe {
		enc := ""
		if r.EncryptOverride != nil {
			enc = *r.EncryptOverride
		} else {
			random := r.Random
			if random == nil {
				random = make([]byte, 16)
			}
			var err error
			if enc, err = Seal(a.EncodingAESKey, a.AppID, random, []byte(r.Body)); err != nil {
				return nil, err
			}
		}
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", Sign(a.Token, r.Timestamp, r.Nonce, enc))
		q.Set("openid", "o_test_openid")
		switch {
		case r.Envelope != "":
			body = r.Envelope
		case r.Compatible:
			// 兼容模式: the plaintext message with <Encrypt> appended before </xml>.
			i := strings.LastIndex(r.Body, "</xml>")
			if i < 0 {
				return nil, errors.New("compatible mode needs a body ending in </xml>")
			}
			body = r.Body[:i] + "<Encrypt><![CDATA[" + enc + "]]></Encrypt>" + r.Body[i:]
		default:
			body = "<xml><ToUserName><![CDATA[" + a.GhID + "]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>"
		}
	} else {
		body = r.Body
	}
	for k, v := range r.Query {
		q.Set(k, v)
	}
	for _, k := range r.Delete {
		q.Del(k)
	}
	var rd io.Reader
	if method != http.MethodGet {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target+"?"+q.Encode(), rd)
	if err != nil {
		return nil, err
	}
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "text/xml")
		req.Header.Set("User-Agent", "Mozilla/4.0")
	}
	return req, nil
}

// EncryptedReply is the envelope the gateway answers with in safe mode.
type EncryptedReply struct {
	Encrypt      string
	MsgSignature string
	TimeStamp    string
	Nonce        string
}

// OpenReply checks an encrypted reply the way WeChat does — MsgSignature over its own TimeStamp,
// Nonce and Encrypt, AppID inside — and returns the reply XML.
func (a Account) OpenReply(r EncryptedReply) ([]byte, error) {
	if Sign(a.Token, r.TimeStamp, r.Nonce, r.Encrypt) != r.MsgSignature {
		return nil, errors.New("reply MsgSignature does not verify")
	}
	msg, appID, err := Unseal(a.EncodingAESKey, r.Encrypt)
	if err != nil {
		return nil, err
	}
	if appID != a.AppID {
		return nil, fmt.Errorf("reply sealed for app %q", appID)
	}
	return msg, nil
}
