package app

import (
	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/normalize"
)

// SenderKeys lists every identifier a message's sender is known by, strongest first: the WeChat
// openid, the Weibo uid, the phone number in E.164 (a number that is not one is no identifier).
// It is the one derivation of a citizen's identity from what a channel says: retries, threads,
// status queries, surveys, lockouts and rate limits all key on it.
func SenderKeys(in intake.CitizenInput) []intake.CitizenKey {
	var keys []intake.CitizenKey
	if in.WeChatOpenID != "" {
		keys = append(keys, intake.CitizenKey{Kind: intake.KeyOpenID, Value: in.WeChatOpenID})
	}
	if in.WeiboUID != "" {
		keys = append(keys, intake.CitizenKey{Kind: intake.KeyWeiboUID, Value: in.WeiboUID})
	}
	if in.Phone != "" {
		if p := normalize.PhoneNumber(in.Phone, ""); p.Valid {
			keys = append(keys, intake.CitizenKey{Kind: intake.KeyPhone, Value: p.E164})
		}
	}
	return keys
}

// SenderKey is the strongest of SenderKeys; ok=false when the sender gave none.
func SenderKey(in intake.CitizenInput) (key intake.CitizenKey, ok bool) {
	if keys := SenderKeys(in); len(keys) > 0 {
		return keys[0], true
	}
	return intake.CitizenKey{}, false
}
