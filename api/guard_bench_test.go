package api

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// BenchmarkRefusedSmallBody is a forged webhook of a few hundred bytes refused 403 without its
// body being read, sent again and again by one client, through the guard middlewares: what a
// flood of bad signatures costs per request (client and server share the process). It reports
// the TCP connections the server accepted per request: 1 when every refusal closes its
// connection, about 0 when the connection is kept.
//
//	go test ./api -run '^$' -bench RefusedSmallBody -benchtime 5000x
func BenchmarkRefusedSmallBody(b *testing.B) {
	e := echo.New()
	e.Use(readDeadline(ReadDeadlines{Webhook: 5 * time.Second}))
	e.Use(closeAfterEarlyRefusal())
	e.POST("/hooks/wechat/x", func(c echo.Context) error { return c.String(http.StatusForbidden, "bad signature") })
	srv := httptest.NewUnstartedServer(e)
	var accepted atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			accepted.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	body := bytes.Repeat([]byte("<xml>forged</xml>"), 20)
	b.ResetTimer()
	for range b.N {
		res, err := client.Post(srv.URL+"/hooks/wechat/x", "text/xml", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(accepted.Load())/float64(b.N), "conns/op")
}
