package wxcrypto_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io/fs"
	"testing"

	"github.com/silenceper/wechat/v2/util"

	"github.com/hotline12345/intake-gateway/channels/wechat/wxcrypto"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
)

const vectorsPath = "../../../internal/testvectors/vectors.json"

func loadVectors(t testing.TB) *wxtest.Vectors {
	t.Helper()
	v, err := wxtest.LoadVectors(vectorsPath)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not found: vector checks need the project checkout", vectorsPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func vectorCipher(t testing.TB, v *wxtest.Vectors) *wxcrypto.Cipher {
	t.Helper()
	c, err := wxcrypto.NewCipher(v.SafeModeRequest.EncodingAESKey, v.SafeModeRequest.AppID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVectors(t *testing.T) {
	v := loadVectors(t)
	u, s := v.URLCheck, v.SafeModeRequest
	if got := wxcrypto.Signature(u.Token, u.Timestamp, u.Nonce); got != u.Signature {
		t.Errorf("Signature(url check) = %s, want %s", got, u.Signature)
	}
	if !wxcrypto.Verify(s.MsgSignature, s.Token, s.Timestamp, s.Nonce, s.Encrypt) {
		t.Error("Verify rejects the vector msg_signature")
	}
	if wxcrypto.Verify(s.PlainSignature, s.Token, s.Timestamp, s.Nonce, s.Encrypt) {
		t.Error("Verify accepts the plain signature as msg_signature")
	}
	c := vectorCipher(t, v)
	msg, err := c.Decrypt(s.Encrypt)
	if err != nil {
		t.Fatal(err)
	}
	if string(msg) != s.PlaintextXML {
		t.Errorf("Decrypt = %q\nwant %q", msg, s.PlaintextXML)
	}
	var random [16]byte
	copy(random[:], s.Random)
	if got := c.EncryptWithRandom(random, []byte(s.PlaintextXML)); got != s.Encrypt {
		t.Errorf("EncryptWithRandom differs from the vector:\n got %s\nwant %s", got, s.Encrypt)
	}
}

// Every padding length 1..32 occurs across message lengths; both directions must agree with the
// independent helper.
func TestRoundTripWithHelper(t *testing.T) {
	v := loadVectors(t)
	c := vectorCipher(t, v)
	key, appID := v.SafeModeRequest.EncodingAESKey, v.SafeModeRequest.AppID
	for n := 0; n < 80; n++ {
		msg := bytes.Repeat([]byte("诉"), n)[:n]
		enc, err := c.Encrypt(msg)
		if err != nil {
			t.Fatal(err)
		}
		got, gotApp, err := wxtest.Unseal(key, enc)
		if err != nil || !bytes.Equal(got, msg) || gotApp != appID {
			t.Fatalf("n=%d: helper cannot open our ciphertext: %v", n, err)
		}
		sealed, err := wxtest.Seal(key, appID, bytes.Repeat([]byte{byte(n)}, 16), msg)
		if err != nil {
			t.Fatal(err)
		}
		back, err := c.Decrypt(sealed)
		if err != nil || !bytes.Equal(back, msg) {
			t.Fatalf("n=%d: cannot open the helper's ciphertext: %v", n, err)
		}
	}
}

// silenceper/wechat/v2's util package is a third implementation (the product's WeChat library);
// its pure functions have no process-wide side effects.
func TestInteropWithSilenceper(t *testing.T) {
	v := loadVectors(t)
	s := v.SafeModeRequest
	c := vectorCipher(t, v)
	msg := []byte("<xml><Content><![CDATA[路灯坏了]]></Content></xml>")

	theirs, err := util.EncryptMsg([]byte("0123456789abcdef"), msg, s.AppID, s.EncodingAESKey)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Decrypt(string(theirs))
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("Decrypt(silenceper) = %q, %v", got, err)
	}
	ours, err := c.Encrypt(msg)
	if err != nil {
		t.Fatal(err)
	}
	_, back, err := util.DecryptMsg(s.AppID, ours, s.EncodingAESKey)
	if err != nil || !bytes.Equal(back, msg) {
		t.Fatalf("silenceper cannot decrypt ours: %q, %v", back, err)
	}
	if want := util.Signature(s.Token, s.Timestamp, s.Nonce, ours); want != wxcrypto.Signature(s.Token, s.Timestamp, s.Nonce, ours) {
		t.Error("signature differs from silenceper's")
	}
}

func TestDecryptRejects(t *testing.T) {
	v := loadVectors(t)
	s := v.SafeModeRequest
	c := vectorCipher(t, v)
	key := s.EncodingAESKey
	layout := func(msgLen uint32, msg, appID string, pad []byte) []byte {
		p := append(make([]byte, 16), byte(msgLen>>24), byte(msgLen>>16), byte(msgLen>>8), byte(msgLen))
		p = append(p, msg...)
		p = append(p, appID...)
		return append(p, pad...)
	}
	// 16+4+5+18 = 43 bytes; 21 pad bytes make 64.
	good := func(pad byte) []byte { return bytes.Repeat([]byte{pad}, int(pad)) }
	raw := func(p []byte) string {
		enc, err := wxtest.SealRaw(key, p)
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	other, _ := wxtest.Seal(key, "wx0000000000000000", make([]byte, 16), []byte("<xml/>"))
	cases := []struct {
		name string
		enc  string
		want error
	}{
		{"control: well-formed", raw(layout(5, "<xml>", s.AppID, good(21))), nil},
		{"not base64", "***", wxcrypto.ErrBase64},
		{"empty", "", wxcrypto.ErrCipherLength},
		{"16 bytes", base64.StdEncoding.EncodeToString(make([]byte, 16)), wxcrypto.ErrCipherLength},
		{"33 bytes", base64.StdEncoding.EncodeToString(make([]byte, 33)), wxcrypto.ErrCipherLength},
		{"pad byte 0", raw(layout(5, "<xml>", s.AppID, append(good(20), 0))), wxcrypto.ErrPadding},
		{"pad byte 33", raw(append(make([]byte, 63), 33)), wxcrypto.ErrPadding},
		{"inconsistent pad bytes", raw(layout(5, "<xml>", s.AppID, append(bytes.Repeat([]byte{7}, 20), 21))), wxcrypto.ErrPadding},
		{"length prefix past the end", raw(layout(500, "<xml>", s.AppID, good(21))), wxcrypto.ErrLengthPrefix},
		{"length prefix 0xffffffff", raw(layout(0xffffffff, "<xml>", s.AppID, good(21))), wxcrypto.ErrLengthPrefix},
		{"plaintext shorter than the header", raw(append(make([]byte, 32-20), bytes.Repeat([]byte{20}, 20)...)), wxcrypto.ErrLengthPrefix},
		{"another AppID", other, wxcrypto.ErrAppIDMismatch},
		{"AppID cut short by the prefix", raw(layout(6, "<xml>", s.AppID, good(21))), wxcrypto.ErrAppIDMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Decrypt(tc.enc)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Decrypt error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNewCipherChecksKey(t *testing.T) {
	for _, key := range []string{"", "short", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2*"} {
		if _, err := wxcrypto.NewCipher(key, "wx1"); err == nil {
			t.Errorf("NewCipher(%q) accepted", key)
		}
	}
	if _, err := wxcrypto.NewCipher("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", ""); err == nil {
		t.Error("NewCipher accepted an empty app id")
	}
}

func TestVerifyIsExact(t *testing.T) {
	sig := wxcrypto.Signature("t", "1", "2")
	for _, bad := range []string{"", sig[:39], sig + "0", string(bytes.ToUpper([]byte(sig)))} {
		if wxcrypto.Verify(bad, "t", "1", "2") {
			t.Errorf("Verify(%q) = true", bad)
		}
	}
	if !wxcrypto.Verify(sig, "2", "t", "1") {
		t.Error("Verify must not depend on the order of parts")
	}
}

// FuzzDecrypt compares Open with the independent helper: both must accept the same ciphertexts
// and find the same message and AppID, and nothing may panic.
func FuzzDecrypt(f *testing.F) {
	v := loadVectors(f)
	s := v.SafeModeRequest
	c := vectorCipher(f, v)
	f.Add(s.Encrypt)
	f.Add(s.Encrypt[:len(s.Encrypt)-4])
	f.Add("")
	f.Add("AAAA")
	f.Add(base64.StdEncoding.EncodeToString(make([]byte, 64)))
	for _, n := range []int{0, 1, 11, 12, 43, 44} {
		enc, _ := wxtest.Seal(s.EncodingAESKey, s.AppID, make([]byte, 16), bytes.Repeat([]byte("x"), n))
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, enc string) {
		msg, appID, err := c.Open(enc)
		hmsg, happID, herr := wxtest.Unseal(s.EncodingAESKey, enc)
		if (err == nil) != (herr == nil) {
			t.Fatalf("implementations disagree: ours %v, helper %v", err, herr)
		}
		if err == nil && (!bytes.Equal(msg, hmsg) || string(appID) != happID) {
			t.Fatalf("implementations disagree on content")
		}
		if err == nil && string(appID) == s.AppID {
			if _, derr := c.Decrypt(enc); derr != nil {
				t.Fatalf("Open accepted but Decrypt refused: %v", derr)
			}
		}
	})
}

func BenchmarkDecrypt(b *testing.B) {
	v := loadVectors(b)
	c := vectorCipher(b, v)
	enc := v.SafeModeRequest.Encrypt
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decrypt(enc); err != nil {
			b.Fatal(err)
		}
	}
}
