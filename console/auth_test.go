package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/console"
)

func TestSignInSessionAndSignOut(t *testing.T) {
	bothStores(t, console.Options{}, func(t *testing.T, e *env) {
		b := e.browser()
		if r := b.get("/console/cases"); r.url != "/console/login" || !strings.Contains(r.body, "运营控制台登录") {
			t.Fatalf("signed out, /console/cases ended at %s", r.url)
		}
		// The session cookie as the server sets it.
		page := b.get("/console/login")
		noFollow := *b.client
		noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		raw := &browser{e: e, client: &noFollow}
		r := raw.post("/console/login", url.Values{"csrf": {csrfOf(t, page.body)}, "name": {"olga"}, "password": {password}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("sign-in: %d %s", r.status, r.body)
		}
		var cookie string
		for _, c := range r.header.Values("Set-Cookie") {
			if strings.HasPrefix(c, "__Host-console=") {
				cookie = c
			}
		}
		for _, attr := range []string{"HttpOnly", "Secure", "SameSite=Strict", "Path=/"} {
			if !strings.Contains(cookie, attr) {
				t.Errorf("session cookie %q lacks %s", cookie, attr)
			}
		}
		home := b.get("/console/")
		if home.status != http.StatusOK || !strings.Contains(home.body, "运行概况") || !strings.Contains(home.body, "olga") {
			t.Fatalf("dashboard after sign-in: %d\n%s", home.status, home.body)
		}
		logins := e.audit(intake.AuditLogin)
		if len(logins) != 1 || logins[0].Actor != "olga" || logins[0].RemoteAddr != "127.0.0.1" {
			t.Fatalf("audit of the sign-in: %+v", logins)
		}
		// Signing out ends the session on the server: the old cookie, replayed, is worth nothing.
		stolen := b.client.Jar.Cookies(mustURL(t, e.srv.URL+"/console/"))
		out := b.post("/console/logout", url.Values{"csrf": {csrfOf(t, home.body)}})
		if out.url != "/console/login" {
			t.Fatalf("logout ended at %s (%d)", out.url, out.status)
		}
		replay := e.browser()
		replay.client.Jar.SetCookies(mustURL(t, e.srv.URL+"/console/"), stolen)
		if r := replay.get("/console/"); r.url != "/console/login" {
			t.Fatalf("a signed-out session's cookie still opens %s", r.url)
		}
		if n := len(e.audit(intake.AuditLogout)); n != 1 {
			t.Fatalf("%d logout entries", n)
		}
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestWrongPasswordAndUnknownUser(t *testing.T) {
	bothStores(t, console.Options{}, func(t *testing.T, e *env) {
		b := e.browser()
		for _, name := range []string{"olga", "nobody"} {
			r := b.login(name, "wrong password!")
			if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "用户名或密码错误") {
				t.Fatalf("%s with a wrong password: %d", name, r.status)
			}
		}
		if r := b.get("/console/"); r.url != "/console/login" {
			t.Fatal("a failed sign-in opened a session")
		}
		failed := e.audit(intake.AuditLoginFailed)
		if len(failed) != 2 || failed[0].Target != "user:nobody" || failed[1].Target != "user:olga" {
			t.Fatalf("failed sign-ins audited as %+v", failed)
		}
	})
}

func TestCSRF(t *testing.T) {
	bothStores(t, console.Options{}, func(t *testing.T, e *env) {
		b := e.browser()
		// The sign-in form needs its token too.
		if r := b.post("/console/login", url.Values{"name": {"olga"}, "password": {password}}); r.status != http.StatusForbidden {
			t.Fatalf("sign-in without the form's token: %d", r.status)
		}
		token := b.mustLogin("olga")
		reveal := "/console/cases/" + e.plain.CaseNo + "/reveal"
		if r := b.post(reveal, url.Values{}); r.status != http.StatusForbidden || strings.Contains(r.body, "13800138000") {
			t.Fatalf("reveal without a token: %d", r.status)
		}
		if r := b.post(reveal, url.Values{"csrf": {token + "x"}}); r.status != http.StatusForbidden {
			t.Fatalf("reveal with a wrong token: %d", r.status)
		}
		// Another site's page posting with the operator's cookie and even a valid token (say,
		// leaked) is refused on its origin.
		if r := b.post(reveal, url.Values{"csrf": {token}}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); r.status != http.StatusForbidden {
			t.Fatalf("cross-origin reveal: %d", r.status)
		}
		if n := len(e.audit(intake.AuditReveal)); n != 0 {
			t.Fatalf("refused reveals left %d audit entries", n)
		}
		// Logout is a form like any other.
		if r := b.post("/console/logout", url.Values{}); r.status != http.StatusForbidden {
			t.Fatalf("logout without a token: %d", r.status)
		}
		if r := b.post(reveal, url.Values{"csrf": {token}}); r.status != http.StatusOK || !strings.Contains(r.body, "13800138000") {
			t.Fatalf("reveal with the token: %d", r.status)
		}
	})
}

func TestSignInThrottling(t *testing.T) {
	opts := console.Options{AddressLogins: intake.LookupPolicy{Limit: 8, Window: 15 * time.Minute, Lockout: 15 * time.Minute}}
	bothStores(t, opts, func(t *testing.T, e *env) {
		b := e.browser()
		for range 5 {
			if r := b.login("olga", "wrong password!"); r.status != http.StatusUnauthorized {
				t.Fatalf("wrong password: %d", r.status)
			}
		}
		// The account is locked: even its right password is refused, and says so.
		if r := b.login("olga", password); r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "登录失败次数过多") {
			t.Fatalf("locked account with the right password: %d", r.status)
		}
		// Other accounts from the same address still sign in, until the address is locked too.
		b.mustLogin("vic")
		other := e.browser()
		for range 3 {
			other.login("nobody", "wrong password!")
		}
		if r := other.login("alice", password); r.status != http.StatusTooManyRequests {
			t.Fatalf("a locked address signed in: %d", r.status)
		}
		e.clock.Advance(16 * time.Minute)
		e.browser().mustLogin("olga")
	})
}

func TestIdleTimeout(t *testing.T) {
	bothStores(t, console.Options{IdleTimeout: 10 * time.Minute}, func(t *testing.T, e *env) {
		b := e.browser()
		b.mustLogin("vic")
		// Activity keeps the session alive past the idle period...
		for range 3 {
			e.clock.Advance(6 * time.Minute)
			if r := b.get("/console/cases"); r.url != "/console/cases" {
				t.Fatalf("an active session ended at %s", r.url)
			}
		}
		// ...and idleness ends it.
		e.clock.Advance(11 * time.Minute)
		if r := b.get("/console/cases"); r.url != "/console/login" {
			t.Fatalf("an idle session still served %s", r.url)
		}
	})
}

func TestRoles(t *testing.T) {
	bothStores(t, console.Options{}, func(t *testing.T, e *env) {
		viewer := e.browser()
		token := viewer.mustLogin("vic")
		casePage := viewer.get("/console/cases/" + e.plain.CaseNo)
		if strings.Contains(casePage.body, `id="reveal"`) || strings.Contains(casePage.body, `id="correct"`) {
			t.Fatal("a viewer is offered reveal or correction")
		}
		if r := viewer.post("/console/cases/"+e.plain.CaseNo+"/reveal", url.Values{"csrf": {token}}); r.status != http.StatusForbidden || strings.Contains(r.body, "13800138000") {
			t.Fatalf("viewer reveal: %d", r.status)
		}
		if r := viewer.post("/console/cases/"+e.plain.CaseNo+"/correct", url.Values{"csrf": {token}, "category": {"water"}, "request_type": {"consult"}}); r.status != http.StatusForbidden {
			t.Fatalf("viewer correction: %d", r.status)
		}
		if got, _ := e.store.GetCase(t.Context(), e.plain.ID); got.Classification.Category != "roads" {
			t.Fatalf("a viewer's correction changed the case to %s", got.Classification.Category)
		}
		if r := viewer.get("/console/audit"); r.status != http.StatusForbidden {
			t.Fatalf("viewer audit page: %d", r.status)
		}
		op := e.browser()
		op.mustLogin("olga")
		if r := op.get("/console/audit"); r.status != http.StatusForbidden {
			t.Fatalf("operator audit page: %d", r.status)
		}
		admin := e.browser()
		admin.mustLogin("alice")
		if r := admin.get("/console/audit"); r.status != http.StatusOK || !strings.Contains(r.body, "user:vic") {
			t.Fatalf("admin audit page: %d\n%s", r.status, r.body)
		}
	})
}

func TestDisablingAnAccountEndsItsSession(t *testing.T) {
	bothStores(t, console.Options{}, func(t *testing.T, e *env) {
		b := e.browser()
		b.mustLogin("vic")
		if _, err := console.SetDisabled(t.Context(), e.store, "vic", true, "root", intake.ActorCLI); err != nil {
			t.Fatal(err)
		}
		if r := b.get("/console/cases"); r.url != "/console/login" {
			t.Fatalf("a disabled account's session still served %s", r.url)
		}
		if r := b.login("vic", password); r.status != http.StatusUnauthorized {
			t.Fatalf("a disabled account signed in: %d", r.status)
		}
		if _, err := console.SetDisabled(t.Context(), e.store, "vic", false, "root", intake.ActorCLI); err != nil {
			t.Fatal(err)
		}
		b.mustLogin("vic")
		// A new role applies at once: the operator's session ends and the next one has the role.
		if _, err := console.SetRole(t.Context(), e.store, "vic", intake.RoleOperator, "root", intake.ActorCLI); err != nil {
			t.Fatal(err)
		}
		if r := b.get("/console/"); r.url != "/console/login" {
			t.Fatalf("the session outlived a role change: %s", r.url)
		}
		token := b.mustLogin("vic")
		if r := b.post("/console/cases/"+e.plain.CaseNo+"/reveal", url.Values{"csrf": {token}}); r.status != http.StatusOK {
			t.Fatalf("reveal with the new role: %d", r.status)
		}
	})
}
