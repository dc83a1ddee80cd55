package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/console"
)

// benchUser signs in to the console to time its pages; it is created once in the benchmark store.
const (
	benchUser     = "statsbench"
	benchPassword = "statsbench-password-not-secret"
)

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// pageTimer serves the console over TLS (its cookies are __Host-, Secure) on the given store
// with its clock stopped at now, signed in as an admin, so that a page's time is the whole
// request: session check, every query the page runs and its template.
type pageTimer struct {
	srv    *httptest.Server
	client *http.Client
}

func newPageTimer(ctx context.Context, st console.Store, now time.Time) (*pageTimer, error) {
	if _, err := st.UserByName(ctx, benchUser); errors.Is(err, intake.ErrNotFound) {
		if _, err := console.AddUser(ctx, st, benchUser, intake.RoleAdmin, benchPassword, console.DefaultPasswordParams,
			"statsbench", intake.ActorCLI); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("find the benchmark user: %w", err)
	}
	c, err := console.New(st, console.Options{Location: now.Location(), Clock: intake.ClockFunc(func() time.Time { return now })})
	if err != nil {
		return nil, err
	}
	srv := httptest.NewTLSServer(c)
	jar, err := cookiejar.New(nil)
	if err != nil {
		srv.Close()
		return nil, err
	}
	client := srv.Client()
	client.Jar = jar
	p := &pageTimer{srv: srv, client: client}
	if err := p.signIn(); err != nil {
		srv.Close()
		return nil, err
	}
	return p, nil
}

func (p *pageTimer) signIn() error {
	body, err := p.get("/console/login")
	if err != nil {
		return err
	}
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		return errors.New("sign-in form without a CSRF token")
	}
	res, err := p.client.PostForm(p.srv.URL+"/console/login", url.Values{"csrf": {m[1]}, "name": {benchUser}, "password": {benchPassword}})
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/console/" {
		return fmt.Errorf("sign in: %s, ended at %s", res.Status, res.Request.URL.Path)
	}
	return nil
}

// get fetches a page and fails on anything but 200.
func (p *pageTimer) get(path string) (string, error) {
	res, err := p.client.Get(p.srv.URL + path)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", path, res.Status)
	}
	// A lost session would be redirected to the sign-in form, which also answers 200.
	if res.Request.URL.Path != path {
		return "", fmt.Errorf("GET %s ended at %s", path, res.Request.URL.Path)
	}
	return string(b), nil
}

func (p *pageTimer) Close() { p.srv.Close() }
