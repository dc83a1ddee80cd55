package wechat_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hotline12345/intake-gateway/channels/wechat"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxapi"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/sqlite"
)

// Two clients (standing in for two replicas) sharing the store fetch one token between them,
// and a token WeChat rejects is replaced once.
func TestReplicasShareOneTokenThroughTheStore(t *testing.T) {
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "t.db"), Options: store.Options{}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	api := wxtest.NewFakeAPI("wxapp", "secret")
	defer api.Close()
	tokens := wechat.StoreTokens{Tokens: st}
	var clients []*wxapi.Client
	for range 2 {
		c, err := wxapi.New(wxapi.Config{AppID: "wxapp", AppSecret: "secret", BaseURL: api.URL, Tokens: tokens})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := clients[i%2].SendText(context.Background(), "oCitizen", "您的工单已办结"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := api.TokenCalls(); n != 1 {
		t.Fatalf("%d token fetches for two replicas, want 1", n)
	}
	api.RevokeToken()
	if err := clients[0].SendText(context.Background(), "oCitizen", "再发一次"); err != nil {
		t.Fatal(err)
	}
	if err := clients[1].SendText(context.Background(), "oCitizen", "另一副本"); err != nil {
		t.Fatal(err)
	}
	if n := api.TokenCalls(); n != 2 {
		t.Fatalf("%d token fetches after one revocation, want 2", n)
	}
	if len(api.Sent()) != 22 {
		t.Fatalf("%d messages sent", len(api.Sent()))
	}
}
