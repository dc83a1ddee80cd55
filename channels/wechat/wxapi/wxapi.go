// Package wxapi is a small client for the WeChat official account API calls the gateway makes:
// the access_token, customer-service text messages (客服消息), template messages (模板消息) and
// temporary media downloads.
//
// It exists instead of silenceper/wechat/v2's client for three reasons: that client's base URL and
// HTTP client are process-wide globals (util.SetURIModifier, util.DefaultHTTPClient), which makes
// tests serial and several accounts in one process share them; its token cache is per process and
// never invalidated on 40001/42001; and its calls take no context. Here every Client has its own
// base URL and *http.Client, tokens live in a TokenStore shared by replicas, and every call takes
// a context.
//
// A WeChat answer with HTTP 200 and a non-zero errcode is an *APIError. Errors never carry the
// request URL, because it holds the app secret or the access_token.
package wxapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is WeChat's API host.
const DefaultBaseURL = "https://api.weixin.qq.com"

// DefaultTimeout bounds one API call when the caller brings no HTTP client.
const DefaultTimeout = 10 * time.Second

// Errcodes that mean the access_token is no longer good: 40001 (invalid credential, often "not
// the latest" after another process refreshed), 40014 (invalid access_token), 42001 (expired).
const (
	CodeInvalidCredential  = 40001
	CodeInvalidAccessToken = 40014
	CodeAccessTokenExpired = 42001
)

// APIError is a WeChat answer with a non-zero errcode.
type APIError struct {
	// Op is the API path, e.g. /cgi-bin/message/custom/send.
	Op      string
	Code    int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechat %s: errcode %d: %s", e.Op, e.Code, e.Message)
}

// TokenInvalid reports whether WeChat rejected the access_token itself.
func (e *APIError) TokenInvalid() bool {
	switch e.Code {
	case CodeInvalidCredential, CodeInvalidAccessToken, CodeAccessTokenExpired:
		return true
	}
	return false
}

// HTTPError is a WeChat answer with a non-2xx HTTP status.
type HTTPError struct {
	Op     string
	Status int
}

func (e *HTTPError) Error() string { return fmt.Sprintf("wechat %s: HTTP %d", e.Op, e.Status) }

// Config configures a Client.
type Config struct {
	AppID     string
	AppSecret string
	// BaseURL replaces https://api.weixin.qq.com (a fake server in tests, an egress proxy).
	BaseURL string
	// HTTPClient defaults to a client with a 10 s timeout.
	HTTPClient *http.Client
	// Tokens defaults to a MemoryTokenStore.
	Tokens TokenStore
	// RefreshBefore is how long before expiry a token is refreshed (default 10 min). WeChat keeps
	// the old token valid for about 5 minutes after a refresh, so replicas that still hold it in
	// flight do not fail.
	RefreshBefore time.Duration
	// MaxMediaBytes bounds a media download (default 20 MiB; WeChat's largest temporary media,
	// video, is 10 MB).
	MaxMediaBytes int64
	// Now defaults to time.Now.
	Now func() time.Time
}

// Client calls the WeChat API for one account. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.AppID == "" || cfg.AppSecret == "" {
		return nil, errors.New("wxapi: app id and app secret are required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("wxapi: base URL must be an absolute http(s) URL, got %q", cfg.BaseURL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultTimeout}
	}
	if cfg.Tokens == nil {
		cfg.Tokens = NewMemoryTokenStore()
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = 10 * time.Minute
	}
	if cfg.MaxMediaBytes <= 0 {
		cfg.MaxMediaBytes = 20 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{cfg: cfg, base: base}, nil
}

// AppID is the account the client acts for.
func (c *Client) AppID() string { return c.cfg.AppID }

// AccessToken returns a current token, fetching one under the store's refresh lock when the
// stored one is missing or about to expire.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	if tok, ok := c.fresh(ctx); ok {
		return tok, nil
	}
	var out string
	err := c.cfg.Tokens.WithRefreshLock(ctx, c.cfg.AppID, func(ctx context.Context) error {
		// Whoever held the lock before us may have refreshed already.
		if tok, ok := c.fresh(ctx); ok {
			out = tok
			return nil
		}
		tok, err := c.fetchToken(ctx)
		if err != nil {
			return err
		}
		if err := c.cfg.Tokens.Save(ctx, c.cfg.AppID, tok); err != nil {
			return fmt.Errorf("wxapi: save access_token: %w", err)
		}
		out = tok.Value
		return nil
	})
	return out, err
}

func (c *Client) fresh(ctx context.Context) (string, bool) {
	tok, err := c.cfg.Tokens.Load(ctx, c.cfg.AppID)
	if err != nil || tok.Value == "" {
		return "", false
	}
	return tok.Value, c.cfg.Now().Add(c.cfg.RefreshBefore).Before(tok.ExpiresAt)
}

func (c *Client) fetchToken(ctx context.Context) (Token, error) {
	const op = "/cgi-bin/token"
	q := url.Values{"grant_type": {"client_credential"}, "appid": {c.cfg.AppID}, "secret": {c.cfg.AppSecret}}
	var resp struct {
		apiStatus
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	started := c.cfg.Now()
	if err := c.callJSON(ctx, http.MethodGet, op, q, nil, &resp); err != nil {
		return Token{}, err
	}
	if resp.AccessToken == "" || resp.ExpiresIn <= 0 {
		return Token{}, fmt.Errorf("wechat %s: answer without access_token or expires_in", op)
	}
	// Count the lifetime from before the request, so network time only makes us refresh early.
	return Token{Value: resp.AccessToken, ExpiresAt: started.Add(time.Duration(resp.ExpiresIn) * time.Second)}, nil
}

// withToken runs call with a token; when WeChat says the token is bad it invalidates that token
// and tries once more with a new one.
func (c *Client) withToken(ctx context.Context, call func(token string) error) error {
	tok, err := c.AccessToken(ctx)
	if err != nil {
		return err
	}
	err = call(tok)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !apiErr.TokenInvalid() {
		return err
	}
	if ierr := c.cfg.Tokens.Invalidate(ctx, c.cfg.AppID, tok); ierr != nil {
		return errors.Join(err, ierr)
	}
	if tok, err = c.AccessToken(ctx); err != nil {
		return err
	}
	return call(tok)
}

// SendText sends a customer-service text message (客服消息). WeChat allows it only within 48 h of
// the citizen's last message and a few per window; errcode 45015 means the window has closed.
func (c *Client) SendText(ctx context.Context, openID, text string) error {
	body := map[string]any{"touser": openID, "msgtype": "text", "text": map[string]string{"content": text}}
	return c.withToken(ctx, func(token string) error {
		var resp apiStatus
		return c.callJSON(ctx, http.MethodPost, "/cgi-bin/message/custom/send", url.Values{"access_token": {token}}, body, &resp)
	})
}

// TemplateField is one keyword of a template message.
type TemplateField struct {
	Value string `json:"value"`
	Color string `json:"color,omitempty"`
}

// MiniProgram opens a mini program page from a template message.
type MiniProgram struct {
	AppID    string `json:"appid"`
	PagePath string `json:"pagepath,omitempty"`
}

// TemplateMessage is a template message (模板消息): the way to tell a citizen about case updates
// after the customer-service window has closed.
type TemplateMessage struct {
	ToUser     string `json:"touser"`
	TemplateID string `json:"template_id"`
	URL        string `json:"url,omitempty"`
	// MiniProgram is omitted when nil (silenceper always sends an empty one).
	MiniProgram *MiniProgram             `json:"miniprogram,omitempty"`
	ClientMsgID string                   `json:"client_msg_id,omitempty"`
	Data        map[string]TemplateField `json:"data"`
}

// SendTemplate sends a template message and returns WeChat's msgid.
func (c *Client) SendTemplate(ctx context.Context, msg TemplateMessage) (int64, error) {
	if msg.ToUser == "" || msg.TemplateID == "" {
		return 0, errors.New("wxapi: template message needs touser and template_id")
	}
	var id int64
	err := c.withToken(ctx, func(token string) error {
		var resp struct {
			apiStatus
			MsgID int64 `json:"msgid"`
		}
		if err := c.callJSON(ctx, http.MethodPost, "/cgi-bin/message/template/send", url.Values{"access_token": {token}}, msg, &resp); err != nil {
			return err
		}
		id = resp.MsgID
		return nil
	})
	return id, err
}

// Media is a downloaded temporary media file.
type Media struct {
	Body        []byte
	ContentType string
	// Filename is from Content-Disposition, when WeChat sent one.
	Filename string
}

// GetMedia downloads temporary media (kept by WeChat for 3 days) by media id. For video, WeChat
// answers with JSON {"video_url": …}; the client follows that URL.
func (c *Client) GetMedia(ctx context.Context, mediaID string) (Media, error) {
	const op = "/cgi-bin/media/get"
	var m Media
	err := c.withToken(ctx, func(token string) error {
		resp, err := c.do(ctx, http.MethodGet, c.endpoint(op, url.Values{"access_token": {token}, "media_id": {mediaID}}), nil, "", op)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, ctype, err := c.readMedia(resp, op)
		if err != nil {
			return err
		}
		// Errors and the video answer are JSON; media itself never is.
		if mt, _, _ := mime.ParseMediaType(ctype); mt == "application/json" || mt == "text/plain" || (len(body) > 0 && body[0] == '{') {
			var j struct {
				apiStatus
				VideoURL string `json:"video_url"`
			}
			if jerr := json.Unmarshal(body, &j); jerr == nil {
				if err := j.err(op); err != nil {
					return err
				}
				if j.VideoURL != "" {
					m, err = c.follow(ctx, j.VideoURL)
					return err
				}
			}
		}
		m = Media{Body: body, ContentType: ctype, Filename: filename(resp.Header.Get("Content-Disposition"))}
		return nil
	})
	return m, err
}

func (c *Client) follow(ctx context.Context, raw string) (Media, error) {
	const op = "video_url"
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return Media{}, fmt.Errorf("wechat %s: not an http(s) URL", op)
	}
	resp, err := c.do(ctx, http.MethodGet, u, nil, "", op)
	if err != nil {
		return Media{}, err
	}
	defer resp.Body.Close()
	body, ctype, err := c.readMedia(resp, op)
	if err != nil {
		return Media{}, err
	}
	return Media{Body: body, ContentType: ctype, Filename: filename(resp.Header.Get("Content-Disposition"))}, nil
}

func (c *Client) readMedia(resp *http.Response, op string) ([]byte, string, error) {
	if resp.StatusCode/100 != 2 {
		return nil, "", &HTTPError{Op: op, Status: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxMediaBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("wechat %s: read body: %w", op, err)
	}
	if int64(len(body)) > c.cfg.MaxMediaBytes {
		return nil, "", fmt.Errorf("wechat %s: media larger than %d bytes", op, c.cfg.MaxMediaBytes)
	}
	return body, resp.Header.Get("Content-Type"), nil
}

func filename(disposition string) string {
	if disposition == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(disposition)
	if err != nil {
		return ""
	}
	return params["filename"]
}

// apiStatus is the errcode/errmsg pair every WeChat JSON answer may carry.
type apiStatus struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func (s apiStatus) err(op string) error {
	if s.ErrCode == 0 {
		return nil
	}
	return &APIError{Op: op, Code: s.ErrCode, Message: s.ErrMsg}
}

type statusCarrier interface{ err(op string) error }

func (c *Client) endpoint(op string, q url.Values) *url.URL {
	u := *c.base
	u.Path += op
	u.RawQuery = q.Encode()
	return &u
}

// callJSON performs a JSON call and decodes the answer into out, whose embedded apiStatus turns a
// non-zero errcode into an *APIError.
func (c *Client) callJSON(ctx context.Context, method, op string, q url.Values, in any, out statusCarrier) error {
	var body io.Reader
	ctype := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("wechat %s: encode: %w", op, err)
		}
		body, ctype = bytes.NewReader(b), "application/json; charset=utf-8"
	}
	resp, err := c.do(ctx, method, c.endpoint(op, q), body, ctype, op)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return &HTTPError{Op: op, Status: resp.StatusCode}
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("wechat %s: read answer: %w", op, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("wechat %s: answer is not JSON: %w", op, err)
	}
	return out.err(op)
}

// do sends the request. Transport errors are rewrapped without the URL: *url.Error would print
// the query, which carries the app secret or the access_token.
func (c *Client) do(ctx context.Context, method string, u *url.URL, body io.Reader, ctype, op string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("wechat %s: build request failed", op)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("wechat %s: %w", op, err)
	}
	return resp, nil
}
