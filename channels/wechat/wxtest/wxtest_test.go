package wxtest

import (
	"errors"
	"io/fs"
	"testing"
)

// vectorsPath is internal/testvectors/vectors.json seen from this package's directory.
const vectorsPath = "../../../internal/testvectors/vectors.json"

func loadVectors(t *testing.T) *Vectors {
	t.Helper()
	v, err := LoadVectors(vectorsPath)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not found: the helper cannot be checked against the npm-computed vectors outside the project checkout", vectorsPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The helper is trusted to sign and encrypt test requests only because it reproduces the
// vectors computed by @wecom/crypto and wechat-crypto.
func TestHelperMatchesVectors(t *testing.T) {
	v := loadVectors(t)
	u := v.URLCheck
	if got := Sign(u.Token, u.Timestamp, u.Nonce); got != u.Signature {
		t.Errorf("url check signature = %s, want %s", got, u.Signature)
	}
	s := v.SafeModeRequest
	if got := Sign(s.Token, s.Timestamp, s.Nonce); got != s.PlainSignature {
		t.Errorf("plain signature = %s, want %s", got, s.PlainSignature)
	}
	if got := Sign(s.Token, s.Timestamp, s.Nonce, s.Encrypt); got != s.MsgSignature {
		t.Errorf("msg_signature = %s, want %s", got, s.MsgSignature)
	}
	enc, err := Seal(s.EncodingAESKey, s.AppID, []byte(s.Random), []byte(s.PlaintextXML))
	if err != nil {
		t.Fatal(err)
	}
	if enc != s.Encrypt {
		t.Errorf("Seal differs from the vector:\n got %s\nwant %s", enc, s.Encrypt)
	}
	msg, appID, err := Unseal(s.EncodingAESKey, s.Encrypt)
	if err != nil {
		t.Fatal(err)
	}
	if string(msg) != s.PlaintextXML || appID != s.AppID {
		t.Errorf("Unseal = %q, %q", msg, appID)
	}
}

func TestUnsealRefusesBrokenCiphertexts(t *testing.T) {
	v := loadVectors(t)
	key := v.SafeModeRequest.EncodingAESKey
	badPad, _ := SealRaw(key, append(make([]byte, 31), 0))
	for name, enc := range map[string]string{"not base64": "!!", "short": "AAAA", "bad padding": badPad} {
		if _, _, err := Unseal(key, enc); err == nil {
			t.Errorf("%s: Unseal accepted it", name)
		}
	}
}
