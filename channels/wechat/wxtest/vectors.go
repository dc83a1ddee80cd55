package wxtest

import (
	"encoding/json"
	"os"
)

// Vectors are the WeChat entries of internal/testvectors/vectors.json, computed with the npm
// packages @wecom/crypto and wechat-crypto.
type Vectors struct {
	URLCheck struct {
		Token     string `json:"token"`
		Timestamp string `json:"timestamp"`
		Nonce     string `json:"nonce"`
		EchoStr   string `json:"echostr"`
		Signature string `json:"signature"`
	} `json:"url_check"`
	SafeModeRequest struct {
		Token          string `json:"token"`
		EncodingAESKey string `json:"encoding_aes_key"`
		AppID          string `json:"app_id"`
		Timestamp      string `json:"timestamp"`
		Nonce          string `json:"nonce"`
		Random         string `json:"random_16_bytes_utf8"`
		PlaintextXML   string `json:"plaintext_xml"`
		Encrypt        string `json:"encrypt"`
		MsgSignature   string `json:"msg_signature"`
		PlainSignature string `json:"plain_signature"`
	} `json:"safe_mode_request"`
}

// LoadVectors reads the file at path (relative to the test's package directory). The error wraps
// os.ErrNotExist when the file is absent, so tests can skip outside the project's checkout.
func LoadVectors(path string) (*Vectors, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		WeChat Vectors `json:"wechat"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	return &doc.WeChat, nil
}

// VectorAccount is the account the vectors were computed for, with the original id that appears
// in their plaintext.
func (v *Vectors) VectorAccount() Account {
	return Account{
		Token:          v.SafeModeRequest.Token,
		EncodingAESKey: v.SafeModeRequest.EncodingAESKey,
		AppID:          v.SafeModeRequest.AppID,
		GhID:           "gh_0a1b2c3d4e5f",
	}
}
