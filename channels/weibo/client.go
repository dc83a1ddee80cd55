package weibo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/internal/safefetch"
)

// ReplyWindow is how long after a citizen's last action (a private message, follow, subscribe,
// menu click or QR scan) the account may send them active replies (客服消息).
const ReplyWindow = 48 * time.Hour

// CanReply reports whether Weibo lets the account send one more active reply to a citizen.
//
//   - lastInbound is the time of the citizen's latest private message, follow, subscribe, menu
//     click or scan on this account (zero: none, so no reply);
//   - isMention says that this latest contact was a public @mention and nothing private came
//     after it: a mention allows exactly one reply, so repliesSoFar (active replies sent since
//     lastInbound) must be 0;
//   - otherwise replies are unlimited until ReplyWindow after lastInbound.
//
// A mention's one reply is also held to the 48-hour window: Weibo documents no longer limit for
// it, and a stale answer to a public post helps nobody. After an unfollow no reply is possible at
// all; the conversation layer records unfollows as opt-outs, which the caller checks first.
func CanReply(lastInbound time.Time, isMention bool, repliesSoFar int, now time.Time) bool {
	if lastInbound.IsZero() || now.Sub(lastInbound) > ReplyWindow {
		return false
	}
	if isMention {
		return repliesSoFar < 1
	}
	return true
}

// DefaultClientTimeout bounds one API call.
const DefaultClientTimeout = 10 * time.Second

// Client calls Weibo's fans-service APIs for one account: active replies and the download of
// media a citizen sent. It is safe for concurrent use.
type Client struct {
	apiBase, uploadBase string
	token               string
	saveSenderBox       bool
	maxMediaBytes       int64
	hc                  *http.Client
}

// NewClient returns the API client of a configured Weibo channel: the access_token setting, base
// URLs from api_base_url and upload_base_url. hc may be nil; redirects are never followed,
// whatever hc says, because every URL carries the access token.
func NewClient(cfg channels.Config, hc *http.Client) (*Client, error) {
	s, err := parseSettings(cfg)
	if err != nil {
		return nil, err
	}
	if s.accessToken == "" {
		return nil, fmt.Errorf("channels[%s].%s: is required to call the Weibo API: %w", cfg.ID, SettingAccessToken, channels.ErrSendingNotConfigured)
	}
	c := &Client{apiBase: s.apiBaseURL, uploadBase: s.uploadBaseURL, token: s.accessToken,
		saveSenderBox: s.saveSenderBox, maxMediaBytes: s.maxMediaBytes}
	base := hc
	if base == nil {
		base = &http.Client{Timeout: DefaultClientTimeout}
	}
	c.hc = &http.Client{
		Transport: base.Transport, Timeout: base.Timeout, Jar: base.Jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// NewMediaClient is the client the media job downloads with: like NewClient, but its requests
// go through base's rules to the channel's media_hosts only — without media_hosts, the host of
// upload_base_url (by default upload.api.weibo.com), the one host the access_token is sent to
// for a download.
func NewMediaClient(cfg channels.Config, base safefetch.Policy) (*Client, error) {
	s, err := parseSettings(cfg)
	if err != nil {
		return nil, err
	}
	uploadHost, err := safefetch.HostOf(s.uploadBaseURL)
	if err != nil {
		return nil, fmt.Errorf("channels[%s].%s: %w", cfg.ID, SettingUploadBaseURL, err)
	}
	hosts := uploadHost
	if len(cfg.MediaHosts) > 0 {
		if hosts, err = safefetch.ParseHosts(cfg.MediaHosts); err != nil {
			return nil, fmt.Errorf("channels[%s].media_hosts: %w", cfg.ID, err)
		}
		if !hosts.Contains(uploadHost) {
			return nil, fmt.Errorf("channels[%s].media_hosts: must allow the upload host %s (media is downloaded from it)", cfg.ID, uploadHost)
		}
	}
	return NewClient(cfg, base.WithHosts(hosts).Client())
}

// APIError is an error answer from the Weibo API: the HTTP status and Weibo's error_code and
// error text ({"error_code":21327,"error":"expired_token","request":"/2/…"}). Code is 0 when
// the answer was not Weibo's error JSON.
type APIError struct {
	Status  int
	Code    int
	Message string
	Request string
}

func (e *APIError) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("weibo: HTTP %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("weibo: HTTP %d, error %d: %s", e.Status, e.Code, e.Message)
}

// Temporary reports whether the same call may succeed later: server errors, HTTP 429, and
// Weibo's system-busy and rate-limit codes (10001 system error, 10009 too many pending tasks,
// 10022–10024 IP/user/API rate limits). Everything else — expired or invalid token (21327,
// 21332), a citizen outside the reply window — fails the same way when retried.
func (e *APIError) Temporary() bool {
	if e.Status >= 500 || e.Status == http.StatusTooManyRequests {
		return true
	}
	switch e.Code {
	case 10001, 10009, 10022, 10023, 10024:
		return true
	}
	return false
}

// weiboError is the JSON error shape; error_code comes as a number or a numeric string.
type weiboError struct {
	Error     string     `json:"error"`
	ErrorCode flexString `json:"error_code"`
	Request   string     `json:"request"`
	Result    *bool      `json:"result"`
}

// SendText sends text to the citizen receiverUID as an active reply (POST
// /2/messages/reply.json). The text is cut to MaxReplyRunes. The form's data field is
// urlencode(JSON) as Weibo documents, so it is percent-encoded twice on the wire; Weibo decodes
// the form and then the data value. Errors Weibo answered are *APIError; the error text never
// contains the URL (it carries the access token).
func (c *Client) SendText(ctx context.Context, receiverUID, text string) error {
	if uid, err := strconv.ParseInt(receiverUID, 10, 64); err != nil || uid <= 0 {
		return errors.New("weibo: send: receiver must be a numeric Weibo UID")
	}
	if strings.TrimSpace(text) == "" {
		return errors.New("weibo: send: empty message")
	}
	form := url.Values{
		"type":        {"text"},
		"data":        {textData(text)},
		"receiver_id": {receiverUID},
	}
	if c.saveSenderBox {
		form.Set("save_sender_box", "1")
	} else {
		form.Set("save_sender_box", "0")
	}
	u := c.apiBase + "/2/messages/reply.json?" + url.Values{"access_token": {c.token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return errors.New("weibo: send: bad api_base_url")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.hc.Do(req)
	if err != nil {
		return scrub("send", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return scrub("send", err)
	}
	if apiErr := parseAPIError(resp.StatusCode, body); apiErr != nil {
		return apiErr
	}
	return nil
}

// parseAPIError returns the error an answer carries, or nil for success: any non-2xx, an
// error_code other than 0, or "result": false. A 200 carrying an error_code is an error — the
// mistake a peer once made by treating such answers as sent.
func parseAPIError(status int, body []byte) *APIError {
	var we weiboError
	jsonErr := json.Unmarshal(body, &we)
	code, _ := strconv.Atoi(string(we.ErrorCode))
	switch {
	case jsonErr == nil && (code != 0 || we.Error != ""):
		return &APIError{Status: status, Code: code, Message: limit(we.Error, 200), Request: limit(we.Request, 200)}
	case status < 200 || status > 299:
		return &APIError{Status: status, Message: http.StatusText(status)}
	case jsonErr != nil:
		return &APIError{Status: status, Message: "answer is not JSON"}
	case we.Result != nil && !*we.Result:
		return &APIError{Status: status, Message: "result is false"}
	}
	return nil
}

// Media is a downloaded file.
type Media struct {
	Data        []byte
	ContentType string
}

// ErrMediaTooLarge is returned by Download for files over the max_media_bytes setting.
var ErrMediaTooLarge = errors.New("weibo: media larger than max_media_bytes")

// Download fetches the file a citizen sent, by the receiver-side file id (tovfid) of an image or
// voice push (GET upload.api.weibo.com/2/mss/msget). The content type is the server's, or sniffed
// from the bytes when the server names none.
func (c *Client) Download(ctx context.Context, fid string) (Media, error) {
	if !validFileID(fid) {
		return Media{}, errors.New("weibo: download: invalid file id")
	}
	u := c.uploadBase + "/2/mss/msget?" + url.Values{"access_token": {c.token}, "fid": {fid}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Media{}, errors.New("weibo: download: bad upload_base_url")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return Media{}, scrub("download", err)
	}
	defer resp.Body.Close()
	if resp.ContentLength > c.maxMediaBytes {
		return Media{}, ErrMediaTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxMediaBytes+1))
	if err != nil {
		return Media{}, scrub("download", err)
	}
	if int64(len(data)) > c.maxMediaBytes {
		return Media{}, ErrMediaTooLarge
	}
	ctype := resp.Header.Get("Content-Type")
	mediaType, _, _ := mime.ParseMediaType(ctype)
	// Errors come as JSON (sometimes labelled text/plain or text/html by the API's front end);
	// a file never is.
	if resp.StatusCode < 200 || resp.StatusCode > 299 || mediaType == "application/json" || strings.HasPrefix(mediaType, "text/") {
		if apiErr := parseAPIError(resp.StatusCode, data); apiErr != nil {
			return Media{}, apiErr
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return Media{}, &APIError{Status: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
		}
		return Media{}, &APIError{Status: resp.StatusCode, Message: "answer is " + mediaType + ", not a file"}
	}
	if len(data) == 0 {
		return Media{}, &APIError{Status: resp.StatusCode, Message: "empty file"}
	}
	if mediaType == "" || mediaType == "application/octet-stream" {
		ctype = http.DetectContentType(data)
	}
	return Media{Data: data, ContentType: ctype}, nil
}

// scrub drops the request URL from transport errors: it holds the access token, and these errors
// end up in job logs.
func scrub(op string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("weibo: %s: %s: %w", op, strings.ToLower(ue.Op), ue.Err)
	}
	return fmt.Errorf("weibo: %s: %w", op, err)
}
