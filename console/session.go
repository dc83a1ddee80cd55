package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// Cookie names. The __Host- prefix makes browsers accept them only when Secure, for the whole
// host and no wider domain, so a sibling subdomain cannot plant one.
const (
	sessionCookie = "__Host-console"
	loginCookie   = "__Host-console-login"
	csrfField     = "csrf"
	// touchEvery bounds how often a session's last activity is written: the idle timeout is
	// measured to within it.
	touchEvery = time.Minute
)

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func tokensEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

// viewer is the signed-in operator of a request.
type viewer struct {
	user    *intake.User
	session *intake.Session
}

type viewerKey struct{}

func viewerFrom(ctx context.Context) *viewer {
	v, _ := ctx.Value(viewerKey{}).(*viewer)
	return v
}

// authed lets a request through when it carries a live session of an operator holding at least
// min; every non-safe request must also carry the session's CSRF token.
func (c *Console) authed(min intake.Role, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := c.session(w, r)
		if err != nil {
			c.fail(w, r, nil, http.StatusServiceUnavailable, "暂时无法读取会话，请稍后重试。")
			return
		}
		if v == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/console/login", http.StatusSeeOther)
				return
			}
			c.fail(w, r, nil, http.StatusUnauthorized, "请先登录。")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			// Forms carry the token as a field; scripts (the job UI's JSON API) as a header.
			token := r.Header.Get(csrfHeader)
			if token == "" {
				token = r.PostFormValue(csrfField)
			}
			if !tokensEqual(token, v.session.CSRFToken) {
				c.fail(w, r, v, http.StatusForbidden, "表单已失效（缺少或错误的校验码），请刷新页面后重试。")
				return
			}
		}
		if !v.user.Role.AtLeast(min) {
			c.fail(w, r, v, http.StatusForbidden, "您的角色无权执行此操作。")
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, v)))
	})
}

// session reads the request's live session, ending it when it has expired or its operator was
// disabled; nil when there is none.
func (c *Console) session(w http.ResponseWriter, r *http.Request) (*viewer, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	idHash := hashToken(ck.Value)
	s, u, err := c.store.SessionUser(r.Context(), idHash)
	if errors.Is(err, intake.ErrNotFound) {
		setCookie(w, sessionCookie, "", -1)
		return nil, nil
	}
	if err != nil {
		c.opts.Logger.Error("console: read session", "error", err.Error())
		return nil, err
	}
	now := c.now()
	if u.Disabled || !now.Before(s.ExpiresAt) || now.Sub(s.LastSeen) >= c.opts.IdleTimeout {
		if err := c.store.DeleteSession(r.Context(), idHash); err != nil {
			c.opts.Logger.Warn("console: end expired session", "error", err.Error())
		}
		setCookie(w, sessionCookie, "", -1)
		return nil, nil
	}
	if now.Sub(s.LastSeen) >= touchEvery {
		if err := c.store.TouchSession(r.Context(), idHash, now); err != nil {
			c.opts.Logger.Warn("console: touch session", "error", err.Error())
		}
	}
	return &viewer{user: u, session: s}, nil
}

type loginView struct {
	CSRF  string
	Name  string
	Error string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if v, err := c.session(w, r); err == nil && v != nil {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return
	}
	c.renderLogin(w, r, http.StatusOK, "", "")
}

// renderLogin shows the sign-in form with a fresh token, set as a cookie as well: before a
// session exists, the form's token must match the cookie (double submit), so another site
// cannot sign a browser in to an account of its choosing.
func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, status int, name, msg string) {
	token := randomToken()
	setCookie(w, loginCookie, token, 3600)
	c.render(w, r, status, "login", nil, loginView{CSRF: token, Name: name, Error: msg})
}

func loginKeys(name, ip string) (account, address string) {
	return "console-login:user:" + strings.ToLower(name), "console-login:ip:" + ip
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, nil, http.StatusBadRequest, "无法读取登录表单。")
		return
	}
	ck, err := r.Cookie(loginCookie)
	if err != nil || !tokensEqual(r.PostFormValue(csrfField), ck.Value) {
		c.fail(w, r, nil, http.StatusForbidden, "登录表单已失效（缺少或错误的校验码），请刷新页面后重试。")
		return
	}
	name, password := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	if name == "" || password == "" || len(name) > 64 {
		c.renderLogin(w, r, http.StatusBadRequest, name, "请输入用户名和密码。")
		return
	}
	ctx, ip, now := r.Context(), c.opts.ClientIP(r), c.now()
	account, address := loginKeys(name, ip)
	locked, err := c.store.LookupLocked(ctx, []string{account, address}, now)
	if err != nil {
		c.fail(w, r, nil, http.StatusServiceUnavailable, "暂时无法登录，请稍后重试。")
		return
	}
	if locked {
		w.Header().Set("Retry-After", "900")
		c.renderLogin(w, r, http.StatusTooManyRequests, name, "登录失败次数过多，请稍后再试。")
		return
	}
	u, err := c.store.UserByName(ctx, name)
	if err != nil && !errors.Is(err, intake.ErrNotFound) {
		c.fail(w, r, nil, http.StatusServiceUnavailable, "暂时无法登录，请稍后重试。")
		return
	}
	hash := c.dummyHash
	if u != nil {
		hash = u.PasswordHash
	}
	ok, verr := VerifyPassword(password, hash)
	if verr != nil {
		c.opts.Logger.Error("console: stored password hash unreadable", "user", name)
	}
	if u == nil || !ok || u.Disabled {
		c.loginFailed(w, r, name, account, address, now)
		return
	}
	token := randomToken()
	s := intake.Session{IDHash: hashToken(token), UserID: u.ID, CSRFToken: randomToken(), RemoteAddr: ip,
		CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(c.opts.MaxAge)}
	if err := c.store.CreateSession(ctx, s); err != nil {
		c.fail(w, r, nil, http.StatusServiceUnavailable, "暂时无法登录，请稍后重试。")
		return
	}
	if err := c.store.AppendAudit(ctx, c.audit(r, u, intake.AuditLogin, "user:"+u.Name, "")); err != nil {
		c.opts.Logger.Error("console: audit sign-in", "error", err.Error())
	}
	setCookie(w, loginCookie, "", -1)
	setCookie(w, sessionCookie, token, 0)
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

func (c *Console) loginFailed(w http.ResponseWriter, r *http.Request, name, account, address string, now time.Time) {
	ctx := r.Context()
	locked, err := c.store.RecordLookupFailure(ctx, []string{account}, now, c.opts.AccountLogins)
	if err == nil {
		var byAddress []string
		byAddress, err = c.store.RecordLookupFailure(ctx, []string{address}, now, c.opts.AddressLogins)
		locked = append(locked, byAddress...)
	}
	if err != nil {
		c.opts.Logger.Error("console: count failed sign-in", "error", err.Error())
	}
	detail := ""
	if len(locked) > 0 {
		detail = "locked: " + strings.Join(locked, ",")
		c.opts.Logger.Warn("console: sign-in locked after repeated failures", "keys", strings.Join(locked, ","))
	}
	if err := c.store.AppendAudit(ctx, c.audit(r, &intake.User{Name: name}, intake.AuditLoginFailed, "user:"+name, detail)); err != nil {
		c.opts.Logger.Error("console: audit failed sign-in", "error", err.Error())
	}
	c.renderLogin(w, r, http.StatusUnauthorized, name, "用户名或密码错误。")
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	if err := c.store.DeleteSession(r.Context(), v.session.IDHash); err != nil {
		c.fail(w, r, v, http.StatusServiceUnavailable, "暂时无法退出，请稍后重试。")
		return
	}
	if err := c.store.AppendAudit(r.Context(), c.audit(r, v.user, intake.AuditLogout, "user:"+v.user.Name, "")); err != nil {
		c.opts.Logger.Error("console: audit sign-out", "error", err.Error())
	}
	c.live.endSession(v.session.IDHash)
	setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}
