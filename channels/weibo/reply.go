package weibo

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxReplyRunes is the longest text a reply carries: Weibo requires "under 300 characters".
const MaxReplyRunes = 299

// TruncateText makes text fit a Weibo text message: valid UTF-8, at most MaxReplyRunes runes,
// ending in "…" when it was cut so the citizen sees that something is missing.
func TruncateText(text string) string {
	text = strings.ToValidUTF8(text, "")
	if utf8.RuneCountInString(text) <= MaxReplyRunes {
		return text
	}
	r := []rune(text)
	return string(r[:MaxReplyRunes-1]) + "…"
}

// textData is the data value of a text message, passive or active: the UTF-8 JSON
// {"text": …}, URL-encoded as Weibo's documentation requires.
func textData(text string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	// Kept literal: the value is URL-encoded next, and Weibo's own examples do not escape <>&.
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		Text string `json:"text"`
	}{TruncateText(text)})
	return url.QueryEscape(strings.TrimSuffix(b.String(), "\n"))
}

// passiveReply is the answer to a push that tells Weibo to send text to the citizen
// (发送被动响应消息): sender_id is the account, receiver_id the citizen, both as strings.
type passiveReply struct {
	Result     bool   `json:"result"`
	SenderID   string `json:"sender_id"`
	ReceiverID string `json:"receiver_id"`
	Type       string `json:"type"`
	Data       string `json:"data"`
}

func passiveTextReply(account, user, text string) []byte {
	b, _ := json.Marshal(passiveReply{Result: true, SenderID: account, ReceiverID: user, Type: "text", Data: textData(text)})
	return b
}
