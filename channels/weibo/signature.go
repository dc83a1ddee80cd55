package weibo

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// Signature is Weibo's push signature: the lowercase hex SHA-1 of app_secret, timestamp and
// nonce, sorted as byte strings and joined without a separator (open.weibo.com/wiki/Messages_api_start).
func Signature(appSecret, timestamp, nonce string) string {
	parts := []string{appSecret, timestamp, nonce}
	slices.Sort(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

// VerifySignature reports whether sig is the signature of timestamp and nonce under appSecret.
// The comparison takes the same time wherever the first difference is, so the expected value
// cannot be found byte by byte. Only lowercase hex is accepted: that is what Weibo sends, and a
// second spelling would only widen what an attacker may try.
func VerifySignature(sig, appSecret, timestamp, nonce string) bool {
	want := Signature(appSecret, timestamp, nonce)
	return subtle.ConstantTimeCompare([]byte(sig), []byte(want)) == 1
}

// maxMillisDigits bounds a millisecond timestamp: 13 digits until the year 2286, with room to
// spare, and short enough that ParseInt cannot overflow.
const maxMillisDigits = 16

// parseMillis reads the push timestamp: a positive decimal count of milliseconds since the Unix
// epoch. ParseInt alone would also take "+5" and "-1".
func parseMillis(s string) (int64, bool) {
	if s == "" || len(s) > maxMillisDigits {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}
