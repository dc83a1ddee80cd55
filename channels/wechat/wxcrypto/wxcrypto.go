// Package wxcrypto implements the WeChat official account message security scheme: the request
// signature, msg_signature, and the AES-256-CBC envelope of safe mode (安全模式).
//
// It is written on the standard library instead of silenceper/wechat/v2's util functions because
// those compare signatures with ==, accept any trailing pad bytes and report errors with panics
// turned into strings; here every comparison is constant-time and every malformed ciphertext gets
// a distinct, testable error. The caller must check msg_signature before calling Decrypt: the
// signature (keyed by the secret token) is what makes the distinct errors safe to expose, since
// without it nobody can reach the decryption to probe it as a padding oracle.
package wxcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
)

// blockSize is the PKCS#7 block WeChat pads to. It is 32 — the AES key size — not the AES block
// size of 16; implementations that pad to 16 interoperate on encrypt but reject WeChat's padding.
const blockSize = 32

// Errors returned by Decrypt. Callers test them with errors.Is.
var (
	ErrBase64        = errors.New("ciphertext is not valid base64")
	ErrCipherLength  = errors.New("ciphertext length is not a positive multiple of 32")
	ErrPadding       = errors.New("bad PKCS#7 padding")
	ErrLengthPrefix  = errors.New("message length prefix does not fit the plaintext")
	ErrAppIDMismatch = errors.New("ciphertext is for another AppID")
)

// Signature returns the lowercase hex SHA-1 of parts sorted and concatenated: the `signature`
// query parameter (token, timestamp, nonce) and, with the Encrypt field as a fourth part,
// `msg_signature`.
func Signature(parts ...string) string {
	sorted := slices.Clone(parts)
	slices.Sort(sorted)
	h := sha1.New()
	for _, p := range sorted {
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Verify reports, in constant time, whether got is the signature of parts.
func Verify(got string, parts ...string) bool {
	want := Signature(parts...)
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// Cipher encrypts and decrypts one account's messages.
type Cipher struct {
	block cipher.Block
	iv    []byte
	appID string
}

// DecodeKey turns the 43-character EncodingAESKey into the 32-byte AES key.
func DecodeKey(encodingAESKey string) ([]byte, error) {
	if len(encodingAESKey) != 43 {
		return nil, fmt.Errorf("must be 43 characters, got %d", len(encodingAESKey))
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("must be base64 of a 32-byte key (43 characters from the WeChat console)")
	}
	return key, nil
}

// NewCipher builds the cipher of the account appID from its EncodingAESKey.
func NewCipher(encodingAESKey, appID string) (*Cipher, error) {
	key, err := DecodeKey(encodingAESKey)
	if err != nil {
		return nil, err
	}
	if appID == "" {
		return nil, errors.New("app id is required")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	// WeChat fixes the IV to the first half of the key; the random 16-byte prefix of every
	// plaintext is what keeps equal messages from encrypting equally.
	return &Cipher{block: block, iv: key[:16], appID: appID}, nil
}

// AppID is the account the cipher checks plaintexts against.
func (c *Cipher) AppID() string { return c.appID }

// Decrypt opens the base64 Encrypt field and returns the message XML, after checking the padding,
// the length prefix and that the AppID at the end is this account's.
func (c *Cipher) Decrypt(encrypted string) ([]byte, error) {
	msg, appID, err := c.Open(encrypted)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(appID, []byte(c.appID)) != 1 {
		return nil, ErrAppIDMismatch
	}
	return msg, nil
}

// Open is Decrypt without the AppID check: it returns the message and the AppID found in the
// plaintext. For tests and tools that must see whose message it is.
func (c *Cipher) Open(encrypted string) (msg, appID []byte, err error) {
	raw, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil {
		return nil, nil, ErrBase64
	}
	if len(raw) == 0 || len(raw)%blockSize != 0 {
		return nil, nil, ErrCipherLength
	}
	plain := make([]byte, len(raw))
	cipher.NewCBCDecrypter(c.block, c.iv).CryptBlocks(plain, raw)

	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > blockSize || pad > len(plain) {
		return nil, nil, ErrPadding
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, nil, ErrPadding
		}
	}
	plain = plain[:len(plain)-pad]
	if len(plain) < 20 {
		return nil, nil, ErrLengthPrefix
	}
	n := binary.BigEndian.Uint32(plain[16:20])
	if uint64(n) > uint64(len(plain)-20) {
		return nil, nil, ErrLengthPrefix
	}
	end := 20 + int(n)
	return plain[20:end:end], plain[end:], nil
}

// Encrypt seals msg for WeChat with a fresh random prefix and returns the base64 Encrypt field.
func (c *Cipher) Encrypt(msg []byte) (string, error) {
	var random [16]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", err
	}
	return c.EncryptWithRandom(random, msg), nil
}

// EncryptWithRandom is Encrypt with a given random prefix, for reproducible output in tests.
func (c *Cipher) EncryptWithRandom(random [16]byte, msg []byte) string {
	n := 20 + len(msg) + len(c.appID)
	pad := blockSize - n%blockSize
	plain := make([]byte, n+pad)
	copy(plain, random[:])
	binary.BigEndian.PutUint32(plain[16:20], uint32(len(msg)))
	copy(plain[20:], msg)
	copy(plain[20+len(msg):], c.appID)
	for i := n; i < len(plain); i++ {
		plain[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(c.block, c.iv).CryptBlocks(plain, plain)
	return base64.StdEncoding.EncodeToString(plain)
}
