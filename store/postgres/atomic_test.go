package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

// The database connection dies between a status event and its notification — after the history
// row, before the notification row. Before, the two were separate transactions and the event
// stayed recorded while the citizen's notification was lost; now the event is not recorded
// either, and the case system's retry records both.
func TestConnectionLostBetweenStatusAndNotification(t *testing.T) {
	proxy := pgtest.NewProxy(t, pgtest.NewDatabase(t, "postgres-store", migrateTemplate))
	s := openOn(t, proxy.URL, storetest.Options())
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	res, err := s.CreateCase(ctx, storetest.NewCase("wechat-main", "cut", t0))
	if err != nil {
		t.Fatal(err)
	}
	c := res.Case
	change := intake.StatusChange{Status: intake.StatusResolved, Event: "resolved", At: t0.Add(time.Hour), Source: "cs", EventID: "r1"}
	notes := []intake.Notification{{CaseID: c.ID, Event: "resolved", Channel: intake.ChannelWeChat, ChannelID: "wechat-main", Address: "oCitizen", Text: "您的工单已办结。"}}

	cut := proxy.CutOn("INSERT INTO notifications")
	_, err = s.AddStatus(ctx, c.ID, change, notes)
	select {
	case <-cut:
	default:
		t.Fatalf("the notification insert never ran through the proxy (err %v); the test proves nothing", err)
	}
	if !errors.Is(err, intake.ErrUnavailable) {
		t.Fatalf("AddStatus with the connection cut: %v, want ErrUnavailable", err)
	}
	got, err := s.GetCase(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != intake.StatusReceived || len(got.StatusHistory) != 1 {
		t.Fatalf("the event survived without its notification: %s %+v", got.Status, got.StatusHistory)
	}
	if n, _ := s.CaseNotifications(ctx, c.ID); len(n) != 0 {
		t.Fatalf("%d notifications without their event", len(n))
	}
	// The case system retries: both are stored.
	if applied, err := s.AddStatus(ctx, c.ID, change, notes); err != nil || !applied {
		t.Fatalf("retry: %v %v", applied, err)
	}
	got, _ = s.GetCase(ctx, c.ID)
	if n, _ := s.CaseNotifications(ctx, c.ID); got.Status != intake.StatusResolved || len(n) != 1 {
		t.Fatalf("after the retry: %s, %d notifications", got.Status, len(n))
	}
}
