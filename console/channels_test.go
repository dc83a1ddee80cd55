package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/console"
)

// The channels page shows each channel's cases and failed notifications (from the store), its
// refusals (this replica's counters) and the state of its access token, never the token.
func TestChannelsPage(t *testing.T) {
	opts := console.Options{
		Channels: []console.ChannelInfo{
			{ID: "wechat-main", Kind: intake.ChannelWeChat, TokenKey: "wechat:wx1"},
			{ID: "wechat-old", Kind: intake.ChannelWeChat, TokenKey: "wechat:wx2"},
			{ID: "wechat-new", Kind: intake.ChannelWeChat, TokenKey: "wechat:wx3"},
			{ID: "sms-main", Kind: intake.ChannelSMS},
		},
		Refusals: func() []console.Refusal {
			return []console.Refusal{{ChannelID: "wechat-main", Reason: "bad_signature", Count: 7}, {ChannelID: "wechat-main", Reason: "stale_timestamp", Count: 2}}
		},
	}
	bothStores(t, opts, func(t *testing.T, e *env) {
		ctx := context.Background()
		tokens := e.store.(interface {
			SaveToken(ctx context.Context, key, value string, expiresAt time.Time) error
		})
		if err := tokens.SaveToken(ctx, "wechat:wx1", "TOKEN-VALUE-1", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := tokens.SaveToken(ctx, "wechat:wx2", "TOKEN-VALUE-2", time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		n, err := e.store.QueueNotification(ctx, intake.Notification{CaseID: e.plain.ID, Event: "resolved", Channel: intake.ChannelWeChat,
			ChannelID: "wechat-main", Address: "oAbCdEfGhIjKlMn", Text: "您的工单已办结"})
		if err != nil {
			t.Fatal(err)
		}
		n.State, n.Reason = intake.NotificationFailed, "wechat: 45015 out of window"
		if err := e.store.UpdateNotification(ctx, n); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.mustLogin("vic")
		r := b.get("/console/channels")
		if r.status != http.StatusOK {
			t.Fatalf("channels: %d", r.status)
		}
		row := func(id string) string {
			t.Helper()
			i := strings.Index(r.body, `<tr id="channel-`+id+`">`)
			if i < 0 {
				t.Fatalf("no row for %s:\n%s", id, r.body)
			}
			end := strings.Index(r.body[i:], "</tr>")
			return r.body[i : i+end]
		}
		main := row("wechat-main")
		for _, want := range []string{`<td class="cases">1</td>`, "bad_signature：7", "stale_timestamp：2", "有效，至", "wechat: 45015 out of window：1"} {
			if !strings.Contains(main, want) {
				t.Errorf("wechat-main lacks %q:\n%s", want, main)
			}
		}
		if old := row("wechat-old"); !strings.Contains(old, `class="token alert">已过期`) {
			t.Errorf("an expired token:\n%s", old)
		}
		if nw := row("wechat-new"); !strings.Contains(nw, "尚未获取") {
			t.Errorf("a token never fetched:\n%s", nw)
		}
		if sms := row("sms-main"); !strings.Contains(sms, `<td class="cases">1</td>`) || !strings.Contains(sms, `<td class="token">—</td>`) {
			t.Errorf("sms-main:\n%s", sms)
		}
		for _, secret := range []string{"TOKEN-VALUE", "oAbCdEfGhIjKlMn", "13800138000"} {
			if strings.Contains(r.body, secret) {
				t.Errorf("the page shows %q", secret)
			}
		}
		if r := e.browser().get("/console/channels"); r.url != "/console/login" {
			t.Errorf("signed out: landed on %s", r.url)
		}
	})
}
