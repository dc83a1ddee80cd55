package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/forward"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/store/sqlite"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

// TestServeAnnouncesHotTopics: with hot_topics enabled, a serving gateway clusters at start
// (River's periodic job) and the configured webhook gets the burst's incident.opened once;
// without the section, no hot-topic job is configured at all.
func TestServeAnnouncesHotTopics(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "intake.db")
	st, err := sqlite.Open(ctx, sqlite.Config{Path: db, Options: storetest.Options()})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		nc := storetest.TopicCase(fmt.Sprintf("cut-%d", i), fmt.Sprintf("幸福小区停水了，什么时候来水？第%d栋", i), "utilities", "江岸区",
			time.Now().Add(-time.Duration(i)*time.Minute))
		if _, err := st.CreateCase(ctx, nc); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	var (
		mu     sync.Mutex
		events []string
	)
	desk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("webhook-signature") != "" {
			events = append(events, r.Header.Get("X-Intake-Event")+" "+r.Header.Get("webhook-id"))
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(desk.Close)

	off, err := config.Load("", []string{})
	if err != nil {
		t.Fatal(err)
	}
	if rc := jobConfig(off, forward.NewWorker(nil, off.Forwarding, nil, nil, nil, nil, nil), nil, nil, nil, nil, slog.New(slog.DiscardHandler)); rc.Queues[jobs.QueueHotTopics].MaxWorkers != 0 || len(rc.PeriodicJobs) != 0 {
		t.Fatalf("without hot_topics the job config has %+v and %d periodic jobs", rc.Queues[jobs.QueueHotTopics], len(rc.PeriodicJobs))
	}
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	a := assembleYAML(t, dir, fmt.Sprintf("database: { sqlite_path: %q, attachments_dir: %q }\nlog: { level: error }\n"+
		"hot_topics: { enabled: true, min_cases: 5, webhook: { url: %q, secret: %q } }\n", db, filepath.Join(dir, "att"), desk.URL, secret))
	defer a.Close()
	topics := a.store.(intake.Incidents)
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := len(events)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no announcement within 15s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	open, err := topics.ListIncidents(ctx, intake.IncidentFilter{State: intake.IncidentOpen})
	if err != nil || len(open) != 1 || open[0].Size != 5 {
		t.Fatalf("open incidents = %+v, %v", open, err)
	}
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 || events[0] != "incident.opened "+open[0].ID || !strings.HasPrefix(events[0], intake.EventIncidentOpened) {
		t.Fatalf("the duty desk got %v, want one incident.opened for %s", events, open[0].ID)
	}
}
