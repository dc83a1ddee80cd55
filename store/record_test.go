package store_test

import (
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store"
)

// A case keeps its first entries in its row and later ones in the history table; reading must
// give one history in time order whichever way the case was stored.
func TestDecodeRecordMergesInitialAndLaterHistory(t *testing.T) {
	received := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	c := &intake.Case{ID: "0193a0b2-0000-7000-8000-000000000001", Status: intake.StatusReceived,
		StatusHistory: []intake.StatusChange{{Status: intake.StatusReceived, At: received.In(time.FixedZone("CST", 8*3600)), Source: "gateway"}}}
	rec, err := store.EncodeRecord(c)
	if err != nil {
		t.Fatal(err)
	}
	initial, err := store.EncodeInitialHistory(c)
	if err != nil {
		t.Fatal(err)
	}
	forwarded := intake.StatusChange{Status: intake.StatusForwarded, Event: "forwarded", At: received.Add(time.Second), Source: "gateway"}
	early := intake.StatusChange{Status: intake.StatusAssigned, Event: "assigned", At: received.Add(-time.Minute), Source: "case_system"}

	tests := map[string]struct {
		initial []byte
		later   []intake.StatusChange
		want    []string
	}{
		"new case, nothing later":       {initial, nil, []string{"received"}},
		"new case with a later entry":   {initial, []intake.StatusChange{forwarded}, []string{"received", "forwarded"}},
		"an entry dated before receipt": {initial, []intake.StatusChange{early, forwarded}, []string{"assigned", "received", "forwarded"}},
		"case stored before (all in the table)": {nil, []intake.StatusChange{
			{Status: intake.StatusReceived, Event: "received", At: received, Source: "gateway"}, forwarded}, []string{"received", "forwarded"}},
		"case stored before, no history": {nil, nil, []string{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := store.DecodeRecord(rec, "forwarded", "", 0, tc.initial, tc.later)
			if err != nil {
				t.Fatal(err)
			}
			var events []string
			for _, h := range got.StatusHistory {
				events = append(events, h.Event)
				if h.At.Location() != time.UTC {
					t.Errorf("entry %s at %v: not UTC", h.Event, h.At)
				}
			}
			if got.StatusHistory == nil || len(events) != len(tc.want) {
				t.Fatalf("history %v, want %v", events, tc.want)
			}
			for i := range events {
				if events[i] != tc.want[i] {
					t.Fatalf("history %v, want %v", events, tc.want)
				}
			}
		})
	}
	if _, err := store.DecodeRecord(rec, "received", "", 0, []byte("{not json"), nil); err == nil {
		t.Error("a corrupt initial history decoded without error")
	}
}
