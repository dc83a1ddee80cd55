package main

import (
	"strings"
	"testing"
)

// The reconciliation decides whether `make chaos` passes: each way a case can go missing, or be
// made twice, must show in its own column.
func TestReconcile(t *testing.T) {
	acks := []ack{
		{Kind: "rest", ChannelID: "rest:chaos", ExternalID: "k1", ID: "c1", CaseNo: "CH1"}, // delivered once
		{Kind: "rest", ChannelID: "rest:chaos", ExternalID: "k1", ID: "c1", CaseNo: "CH1"}, // the same message acknowledged again
		{Kind: "sms", ChannelID: "sms-chaos", ExternalID: "SM2", CaseNo: "CH2"},            // delivered twice under its own key
		{Kind: "sms", ChannelID: "sms-chaos", ExternalID: "SM3", CaseNo: "CH3"},            // not in the store
		{Kind: "rest", ChannelID: "rest:chaos", ExternalID: "k4", ID: "c4", CaseNo: "CH4"}, // stored, never delivered
		{Kind: "rest", ChannelID: "rest:chaos", ExternalID: "k5", ID: "c5", CaseNo: "CH5"}, // stored under another case
		{Kind: "wechat", ChannelID: "wechat-chaos", ExternalID: "6", CaseNo: ""},           // no number in the answer; delivered
		{Kind: "rest", ChannelID: "rest:chaos", ExternalID: "k7", ID: "c7", CaseNo: "CH7"}, // delivered under two keys
	}
	stored := map[msgKey]storedCase{
		{"rest:chaos", "k1"}:     {"c1", "CH1"},
		{"sms-chaos", "SM2"}:     {"c2", "CH2"},
		{"rest:chaos", "k4"}:     {"c4", "CH4"},
		{"rest:chaos", "k5"}:     {"c5b", "CH5"},
		{"wechat-chaos", "6"}:    {"c6", "CH6"},
		{"rest:chaos", "k7"}:     {"c7", "CH7"},
		{"rest:chaos", "unseen"}: {"c8", "CH8"}, // stored but never acknowledged: not counted
	}
	recv := []received{
		{Key: "c1", Event: "case.created", ID: "c1", ChannelID: "rest:chaos", ExternalID: "k1"},
		{Key: "c1", Event: "case.updated", ID: "c1", ChannelID: "rest:chaos", ExternalID: "k1"}, // a later event is no repeat
		{Key: "c2", Event: "case.created", ID: "c2", ChannelID: "sms-chaos", ExternalID: "SM2"},
		{Key: "c2", Event: "case.created", ID: "c2", ChannelID: "sms-chaos", ExternalID: "SM2"},
		{Key: "c5", Event: "case.created", ID: "c5", ChannelID: "rest:chaos", ExternalID: "k5"},
		{Key: "c6", Event: "case.duplicate", ID: "c6", ChannelID: "wechat-chaos", ExternalID: "6"},
		{Key: "c7", Event: "case.created", ID: "c7", ChannelID: "rest:chaos", ExternalID: "k7"},
		{Key: "c7x", Event: "case.created", ID: "c7x", ChannelID: "rest:chaos", ExternalID: "k7"},
	}
	got := reconcile(acks, stored, recv)
	want := tally{Acked: 7, Stored: 5, Delivered: 4, Lost: 3, Repeats: 1, CrossKey: 1}
	if got.Acked != want.Acked || got.Stored != want.Stored || got.Delivered != want.Delivered ||
		got.Lost != want.Lost || got.Repeats != want.Repeats || got.CrossKey != want.CrossKey {
		t.Fatalf("reconcile = %+v, want %+v", got, want)
	}
	joined := strings.Join(got.Examples, "\n")
	for _, w := range []string{"SM3: not in the store", "k4: not delivered", "k5: answered c5 CH5, stored as c5b CH5"} {
		if !strings.Contains(joined, w) {
			t.Errorf("examples %q lack %q", joined, w)
		}
	}
	if got := reconcile(nil, stored, recv); got.Acked != 0 || got.Lost != 0 {
		t.Errorf("no acknowledgements: %+v", got)
	}
}
