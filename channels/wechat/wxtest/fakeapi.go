package wxtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
)

// FakeAPI is a fake https://api.weixin.qq.com for one account: token, customer-service and
// template sends, and media downloads. It checks credentials and tokens like WeChat does and
// records what it was sent. Point wxapi.Config.BaseURL at URL. Safe for concurrent use.
type FakeAPI struct {
	*httptest.Server
	AppID, AppSecret string

	mu sync.Mutex
	// current is the valid token; issuing a new one retires the old one at once (stricter than
	// WeChat's 5-minute overlap, so tests see every stale-token path).
	current   string
	issued    int
	expiresIn int
	failNext  map[string][]int // path → errcodes to answer on the next calls
	media     map[string]FakeMedia
	sent      []SentMessage
}

// FakeMedia is what /cgi-bin/media/get answers for a media id. With VideoURL set the fake
// answers {"video_url": …} like WeChat does for video.
type FakeMedia struct {
	ContentType string
	Filename    string
	Body        []byte
	VideoURL    string
}

// SentMessage is one accepted send: the path and the decoded JSON body.
type SentMessage struct {
	Path string
	Body map[string]any
}

// NewFakeAPI starts the fake. Close it when done.
func NewFakeAPI(appID, appSecret string) *FakeAPI {
	f := &FakeAPI{AppID: appID, AppSecret: appSecret, expiresIn: 7200, failNext: map[string][]int{}, media: map[string]FakeMedia{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cgi-bin/token", f.token)
	mux.HandleFunc("POST /cgi-bin/message/custom/send", f.send)
	mux.HandleFunc("POST /cgi-bin/message/template/send", f.send)
	mux.HandleFunc("GET /cgi-bin/media/get", f.getMedia)
	f.Server = httptest.NewServer(mux)
	return f
}

// SetExpiresIn sets the expires_in of tokens issued from now on.
func (f *FakeAPI) SetExpiresIn(seconds int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expiresIn = seconds
}

// FailNext makes the next calls to path answer HTTP 200 with these errcodes, in order.
func (f *FakeAPI) FailNext(path string, errcodes ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext[path] = append(f.failNext[path], errcodes...)
}

// RevokeToken retires the current token, as if another process had fetched a new one.
func (f *FakeAPI) RevokeToken() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.current = ""
}

// PutMedia makes mediaID downloadable.
func (f *FakeAPI) PutMedia(mediaID string, m FakeMedia) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.media[mediaID] = m
}

// TokenCalls is how many tokens were issued.
func (f *FakeAPI) TokenCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued
}

// Sent returns the accepted sends so far.
func (f *FakeAPI) Sent() []SentMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]SentMessage(nil), f.sent...)
}

func writeJSON(w http.ResponseWriter, v any) {
	// WeChat answers errors with HTTP 200 and the JSON errcode; the fake does the same so that
	// clients treating any 200 as success are caught.
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func errJSON(code int, msg string) map[string]any {
	return map[string]any{"errcode": code, "errmsg": msg}
}

// popFailure returns the next forced errcode for path, or 0.
func (f *FakeAPI) popFailure(path string) int {
	q := f.failNext[path]
	if len(q) == 0 {
		return 0
	}
	f.failNext[path] = q[1:]
	return q[0]
}

func (f *FakeAPI) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	if code := f.popFailure(r.URL.Path); code != 0 {
		writeJSON(w, errJSON(code, "forced failure"))
		return
	}
	switch {
	case q.Get("grant_type") != "client_credential":
		writeJSON(w, errJSON(40002, "invalid grant_type"))
	case q.Get("appid") != f.AppID:
		writeJSON(w, errJSON(40013, "invalid appid"))
	case q.Get("secret") != f.AppSecret:
		writeJSON(w, errJSON(40125, "invalid appsecret"))
	default:
		f.issued++
		f.current = fmt.Sprintf("TOKEN-%d", f.issued)
		writeJSON(w, map[string]any{"access_token": f.current, "expires_in": f.expiresIn})
	}
}

// checkToken answers the token error, if any, and reports whether the call may proceed.
func (f *FakeAPI) checkToken(w http.ResponseWriter, r *http.Request) bool {
	tok := r.URL.Query().Get("access_token")
	if code := f.popFailure(r.URL.Path); code != 0 {
		writeJSON(w, errJSON(code, "forced failure"))
		return false
	}
	if tok == "" {
		writeJSON(w, errJSON(41001, "access_token missing"))
		return false
	}
	if tok != f.current {
		writeJSON(w, errJSON(40001, "invalid credential, access_token is invalid or not latest"))
		return false
	}
	return true
}

func (f *FakeAPI) send(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.checkToken(w, r) {
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		writeJSON(w, errJSON(47001, "data format error"))
		return
	}
	if body["touser"] == nil || body["touser"] == "" {
		writeJSON(w, errJSON(40003, "invalid openid"))
		return
	}
	f.sent = append(f.sent, SentMessage{Path: r.URL.Path, Body: body})
	if r.URL.Path == "/cgi-bin/message/template/send" {
		writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": 200228332 + len(f.sent)})
		return
	}
	writeJSON(w, errJSON(0, "ok"))
}

func (f *FakeAPI) getMedia(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.checkToken(w, r) {
		return
	}
	m, ok := f.media[r.URL.Query().Get("media_id")]
	if !ok {
		// WeChat sends this error as text/plain.
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, `{"errcode":40007,"errmsg":"invalid media_id"}`)
		return
	}
	if m.VideoURL != "" {
		writeJSON(w, map[string]any{"video_url": m.VideoURL})
		return
	}
	w.Header().Set("Content-Type", m.ContentType)
	if m.Filename != "" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+m.Filename+`"`)
	}
	_, _ = w.Write(m.Body)
}
