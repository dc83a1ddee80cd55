package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hotline12345/intake-gateway/internal/ratelimit"
)

// Scopes an API key can hold.
const (
	ScopeSubmit = "submit"
	ScopeRead   = "read"
	ScopeEvents = "events"
	ScopeAdmin  = "admin"
)

// Principal is the authenticated API client.
type Principal struct {
	Name   string
	Scopes []string
}

// Has reports whether the principal holds scope (admin holds every scope).
func (p Principal) Has(scope string) bool {
	return slices.Contains(p.Scopes, scope) || slices.Contains(p.Scopes, ScopeAdmin)
}

type principalKey struct{}

// clientIPKey holds the client address of an authenticated request (as echo determined it,
// believing X-Forwarded-For only from trusted proxies), for the audit log.
type clientIPKey struct{}

func clientIPFrom(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

// PrincipalFrom returns the principal authenticated for ctx.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

type keyEntry struct {
	hash      [sha256.Size]byte
	principal Principal
}

// Authenticator checks bearer keys against the configured SHA-256 hashes.
type Authenticator struct {
	keys []keyEntry
	// perKey, when set, limits each key's request rate.
	perKey *ratelimit.Keyed
}

// WithRateLimit limits each key to its own token bucket in perKey: past it, requests are 429
// with Retry-After. One Authenticator (and so one set of buckets) should serve every route.
func (a *Authenticator) WithRateLimit(perKey *ratelimit.Keyed) *Authenticator {
	a.perKey = perKey
	return a
}

// APIKey is one client of the REST API: an entry of the api_keys list of the gateway's
// configuration. Only the key's SHA-256 is stored.
type APIKey struct {
	Name   string   `koanf:"name" validate:"required,max=64,excludesall=/: "`
	SHA256 string   `koanf:"sha256" validate:"required,len=64,hexadecimal"`
	Scopes []string `koanf:"scopes" validate:"required,min=1,dive,oneof=submit read events admin"`
}

// NewAuthenticator indexes the configured keys. Hashes were validated as hex when the configuration was loaded.
func NewAuthenticator(keys []APIKey) *Authenticator {
	a := &Authenticator{}
	for _, k := range keys {
		var e keyEntry
		raw, err := hex.DecodeString(k.SHA256)
		if err != nil || len(raw) != sha256.Size {
			continue
		}
		copy(e.hash[:], raw)
		e.principal = Principal{Name: k.Name, Scopes: slices.Clone(k.Scopes)}
		a.keys = append(a.keys, e)
	}
	return a
}

// Lookup finds the principal for a presented key. It compares the key's hash with every
// configured hash in constant time and without stopping early, so timing reveals neither which
// key matched nor how much of it.
func (a *Authenticator) Lookup(key string) (Principal, bool) {
	sum := sha256.Sum256([]byte(key))
	var found Principal
	ok := 0
	for _, e := range a.keys {
		if subtle.ConstantTimeCompare(sum[:], e.hash[:]) == 1 {
			found, ok = e.principal, 1
		}
	}
	return found, ok == 1
}

// Admit takes one request of the principal named name from its key's rate limit
// (WithRateLimit), for surfaces that read the key from the request body instead of through
// Middleware (Open311's api_key field), so that a key has one rate wherever it is used.
func (a *Authenticator) Admit(name string) (ok bool, retryAfter time.Duration) {
	return a.perKey.Allow(name)
}

func unauthorized(detail string) *ProblemError {
	p := problem(http.StatusUnauthorized, "unauthorized", "Unauthorized", detail)
	p.Header = map[string]string{"WWW-Authenticate": `Bearer realm="intake-gateway"`}
	return p
}

// Middleware authenticates the request and stores the principal in its context.
func (a *Authenticator) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			scheme, key, found := strings.Cut(h, " ")
			if h == "" {
				return writeProblem(c, unauthorized("Send Authorization: Bearer <key>."))
			}
			if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
				return writeProblem(c, unauthorized("The Authorization header must be Bearer <key>."))
			}
			p, ok := a.Lookup(strings.TrimSpace(key))
			if !ok {
				return writeProblem(c, unauthorized("Unknown API key."))
			}
			c.Set("principal", p.Name)
			if ok, retry := a.perKey.Allow(p.Name); !ok {
				return tooManyRequests(c, retry, "The API key "+p.Name+" exceeds its request rate.")
			}
			req := c.Request()
			ctx := context.WithValue(req.Context(), principalKey{}, p)
			c.SetRequest(req.WithContext(context.WithValue(ctx, clientIPKey{}, c.RealIP())))
			return next(c)
		}
	}
}

// RequireScope rejects a principal without scope with 403.
func RequireScope(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, ok := PrincipalFrom(c.Request().Context())
			if !ok {
				return writeProblem(c, unauthorized("Send Authorization: Bearer <key>."))
			}
			if !p.Has(scope) {
				return writeProblem(c, problem(http.StatusForbidden, "forbidden", "Forbidden",
					"The API key "+p.Name+" lacks the "+scope+" scope."))
			}
			return next(c)
		}
	}
}
