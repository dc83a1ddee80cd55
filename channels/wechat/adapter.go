package wechat

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/hotline12345/intake-gateway/internal/app"

	"github.com/labstack/echo/v4"

	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxcrypto"
	"github.com/hotline12345/intake-gateway/internal/logging"
)

// Adapter serves one configured official account.
type Adapter struct {
	s *settings
	// Common is the receiver, logger, clock and request counters every adapter takes from Deps.
	channels.Common
}

var _ channels.Adapter = (*Adapter)(nil)

// New checks the channel's configuration and returns its adapter. Errors name the key as
// channels[<id>].<key>.
func New(cfg channels.Config, deps channels.Deps) (*Adapter, error) {
	s, err := parseSettings(cfg)
	if err != nil {
		return nil, err
	}
	base, err := deps.Common("wechat", "WeChat", cfg.ID)
	if err != nil {
		return nil, err
	}
	return &Adapter{s: s, Common: base}, nil
}

// Path is the webhook path of the channel: /hooks/wechat/<id>.
func (a *Adapter) Path() string { return "/hooks/wechat/" + a.s.id }

// Register adds GET (URL check) and POST (message push) on the channel's path. Only configured
// ids get routes, so an unknown id is echo's 404.
func (a *Adapter) Register(e *echo.Echo) {
	e.GET(a.Path(), a.handleGet)
	e.POST(a.Path(), a.handlePost)
}

// handleGet answers the URL check made when the server URL is saved in the WeChat console.
func (a *Adapter) handleGet(c echo.Context) error {
	if _, _, rej := a.authenticate(c); rej != nil {
		return a.Refuse(c, rej)
	}
	echostr := c.QueryParam("echostr")
	if echostr == "" || len(echostr) > 256 {
		return a.Refuse(c, channels.Reject(http.StatusBadRequest, "bad_echostr", "missing or invalid echostr"))
	}
	return c.String(http.StatusOK, echostr)
}

// handlePost authenticates, decrypts and decodes a push, hands it to the Receiver and writes the
// passive reply. Every way out of it writes the answer itself: errors returned to echo would be
// rendered by the server's problem+json handler, which is not WeChat's format.
func (a *Adapter) handlePost(c echo.Context) error {
	ts, nonce, rej := a.authenticate(c)
	if rej != nil {
		return a.Refuse(c, rej)
	}
	req := c.Request()
	if req.ContentLength > MaxBodyBytes {
		return a.Refuse(c, channels.Reject(http.StatusRequestEntityTooLarge, "too_large", "request body too large"))
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxBodyBytes+1))
	if err != nil {
		return a.Refuse(c, channels.Reject(http.StatusBadRequest, "read_error", "could not read request body"))
	}
	if len(body) > MaxBodyBytes {
		return a.Refuse(c, channels.Reject(http.StatusRequestEntityTooLarge, "too_large", "request body too large"))
	}
	if len(body) == 0 {
		return a.Refuse(c, channels.Reject(http.StatusBadRequest, "malformed_xml", "empty body"))
	}

	f, rej := parse(body)
	if rej != nil {
		return a.Refuse(c, rej)
	}
	doc := body
	// Compatible mode sends plaintext and ciphertext together; the ciphertext is the part
	// msg_signature authenticates, so it wins whenever it is there.
	_, hasEncrypt := f["Encrypt"]
	encrypted := c.QueryParam("encrypt_type") == "aes" || hasEncrypt
	if encrypted {
		if doc, rej = a.open(c, f, ts, nonce); rej != nil {
			return a.Refuse(c, rej)
		}
		if f, rej = parse(doc); rej != nil {
			return a.Refuse(c, rej)
		}
	} else if a.s.mode == ModeSafe {
		return a.Refuse(c, channels.Reject(http.StatusForbidden, "plaintext_in_safe_mode", "plaintext message refused: the account is in safe mode"))
	}

	in, rej := a.s.decode(f, doc, body, req.Header.Get(echo.HeaderContentType))
	if rej != nil {
		return a.Refuse(c, rej)
	}
	a.Metrics.Requests.WithLabelValues(a.Metrics.TypeLabel(in.typeLabel)).Inc()
	if in.unknown {
		a.Metrics.Unknown.WithLabelValues(a.Metrics.TypeLabel(in.typeLabel)).Inc()
		a.Logger.Debug("wechat push of unknown type answered success", "type", a.Metrics.TypeLabel(in.typeLabel))
		return success(c)
	}
	if in.msg == nil && in.ev == nil {
		return success(c)
	}

	ctx, cancel := context.WithTimeout(req.Context(), a.s.replyTimeout)
	defer cancel()
	if !encrypted {
		// A plaintext push is signed over token, timestamp and nonce only: its body is bound to
		// the signature here. (msg_signature covers an encrypted push's ciphertext.)
		sec, _ := parseUnixSeconds(ts)
		replayed, err := a.CheckReplay(ctx, a.s.id, c.QueryParam("signature"), nonce, body, time.Unix(sec, 0).Add(a.s.timestampWindow))
		if err != nil {
			return a.receiverFailed(c, err, in)
		}
		if replayed {
			return a.Refuse(c, channels.Reject(http.StatusForbidden, "replayed", "request signature already used with another body"))
		}
	}
	var reply app.Reply
	if in.msg != nil {
		reply, err = a.Receiver.Receive(ctx, *in.msg)
	} else {
		reply, err = a.Receiver.Event(ctx, *in.ev)
	}
	if err != nil {
		return a.receiverFailed(c, err, in)
	}
	a.Logger.Debug("wechat push handled", "type", in.typeLabel, "citizen", logging.PseudoID(in.from), "outcome", string(reply.Outcome))
	if reply.Text == "" {
		return success(c)
	}
	out := textReply(in.from, in.to, a.Clock.Now().Unix(), reply.Text)
	if encrypted {
		if out, err = encryptedReply(a.s.cipher, a.s.token, out, a.Clock.Now().Unix()); err != nil {
			// The case is committed; WeChat's retry will get the same reply from the Receiver.
			a.Logger.Error("encrypt wechat reply", "error", err.Error())
			a.Metrics.Failed.Inc()
			return c.String(http.StatusInternalServerError, "internal error")
		}
	}
	return c.Blob(http.StatusOK, "text/xml; charset=utf-8", out)
}

// authenticate checks signature, timestamp and nonce (present on every GET and POST) and returns
// the timestamp and nonce for msg_signature.
func (a *Adapter) authenticate(c echo.Context) (ts, nonce string, rej *channels.Rejection) {
	sig, ts, nonce := c.QueryParam("signature"), c.QueryParam("timestamp"), c.QueryParam("nonce")
	switch {
	case sig == "":
		return "", "", channels.Reject(http.StatusForbidden, "missing_signature", "missing signature")
	case ts == "":
		return "", "", channels.Reject(http.StatusBadRequest, "bad_timestamp", "missing timestamp")
	case nonce == "":
		return "", "", channels.Reject(http.StatusBadRequest, "missing_nonce", "missing nonce")
	}
	sec, ok := parseUnixSeconds(ts)
	if !ok {
		return "", "", channels.Reject(http.StatusBadRequest, "bad_timestamp", "invalid timestamp")
	}
	if !wxcrypto.Verify(sig, a.s.token, ts, nonce) {
		return "", "", channels.Reject(http.StatusForbidden, "bad_signature", "invalid signature")
	}
	// Checked after the signature so that unauthenticated callers learn nothing of our clock.
	now := a.Clock.Now().Unix()
	if d := now - sec; d > int64(a.s.timestampWindow.Seconds()) || -d > int64(a.s.timestampWindow.Seconds()) {
		return "", "", channels.Reject(http.StatusForbidden, "stale_timestamp", "timestamp outside the allowed window")
	}
	return ts, nonce, nil
}

// open checks msg_signature over the Encrypt field and decrypts it. The signature is verified
// first, so that only holders of the token ever reach the decryption and its distinct errors.
func (a *Adapter) open(c echo.Context, f fields, ts, nonce string) ([]byte, *channels.Rejection) {
	if a.s.cipher == nil {
		return nil, channels.Reject(http.StatusBadRequest, "no_aes_key", "encrypted message but no encoding_aes_key is configured")
	}
	enc := f["Encrypt"]
	if enc == "" {
		return nil, channels.Reject(http.StatusBadRequest, "missing_encrypt", "missing Encrypt")
	}
	msig := c.QueryParam("msg_signature")
	if msig == "" {
		return nil, channels.Reject(http.StatusForbidden, "missing_msg_signature", "missing msg_signature")
	}
	if !wxcrypto.Verify(msig, a.s.token, ts, nonce, enc) {
		return nil, channels.Reject(http.StatusForbidden, "bad_msg_signature", "invalid msg_signature")
	}
	doc, err := a.s.cipher.Decrypt(enc)
	switch {
	case errors.Is(err, wxcrypto.ErrAppIDMismatch):
		return nil, channels.Reject(http.StatusForbidden, "wrong_appid", "message is for another AppID")
	case err != nil:
		return nil, channels.Reject(http.StatusBadRequest, "bad_ciphertext", "ciphertext does not decrypt: "+err.Error())
	}
	return doc, nil
}

func parse(doc []byte) (fields, *channels.Rejection) {
	f, err := parseFields(doc)
	switch {
	case errors.Is(err, errXMLDirective):
		return nil, channels.Reject(http.StatusBadRequest, "xml_directive", err.Error())
	case err != nil:
		return nil, channels.Reject(http.StatusBadRequest, "malformed_xml", err.Error())
	}
	return f, nil
}

// receiverFailed answers a Receiver error as every channel does (channels.FailureOf): 4xx for
// what retrying cannot fix, 5xx — nothing acknowledged — so WeChat retries.
func (a *Adapter) receiverFailed(c echo.Context, err error, in inbound) error {
	f := channels.FailureOf(err, "MsgId already used for a different message")
	f.SetRetryAfter(c)
	if f.Acknowledged() {
		return a.Refuse(c, channels.Reject(f.Status, f.Label, f.Reason))
	}
	a.Metrics.Failed.Inc()
	a.Logger.Error("wechat push not acknowledged", "type", in.typeLabel, "status", f.Status, "error", err.Error())
	return c.String(f.Status, f.Reason)
}

// success is WeChat's "received, nothing to say". It is plain text also in safe mode: an
// encrypted envelope around an empty reply is not something WeChat documents accepting.
func success(c echo.Context) error { return c.String(http.StatusOK, "success") }
