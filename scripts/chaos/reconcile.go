package main

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"

	intake "github.com/hotline12345/intake-gateway"
)

// msgKey is a message's identity at the gateway: (channel_id, external_id) is unique in the
// store, so a retried message must find its first case.
type msgKey struct{ channelID, externalID string }

// storedCase is a case row of the store.
type storedCase struct{ id, caseNo string }

// tally is the reconciliation of one fault's acknowledgements with the store and the case
// system.
type tally struct {
	Acked     int // the client got 2xx (and a case number where the channel answers with one)
	Stored    int // acknowledged and in the store under the same message, with the number given
	Delivered int // acknowledged, stored and accepted by the case system (first event of its case)
	Lost      int // acknowledged but not stored, stored under another number, or not delivered
	// Repeats are acknowledged cases the case system accepted more than once, every time under
	// the case's own Idempotency-Key (allowed: the case system drops the repeats).
	Repeats int
	// CrossKey are messages the case system received under more than one Idempotency-Key: one
	// message made into several cases, which a case system cannot recognise as repeats. Never
	// allowed.
	CrossKey int
	// Examples name a few lost messages (ids only: no personal data).
	Examples []string
}

// reconcile compares what was acknowledged with what the store holds and what the case system
// accepted. It only reads its inputs.
func reconcile(acks []ack, stored map[msgKey]storedCase, recv []received) tally {
	firsts := map[string]int{}             // case id → accepted first events
	keysOf := map[msgKey]map[string]bool{} // message → Idempotency-Keys it arrived under
	for _, r := range recv {
		if !intake.IsFirstEvent(r.Event) {
			continue
		}
		firsts[r.Key]++
		mk := msgKey{r.ChannelID, r.ExternalID}
		if keysOf[mk] == nil {
			keysOf[mk] = map[string]bool{}
		}
		keysOf[mk][r.Key] = true
	}
	var t tally
	lost := func(a ack, why string) {
		t.Lost++
		if len(t.Examples) < 5 {
			t.Examples = append(t.Examples, fmt.Sprintf("%s %s/%s: %s", a.Kind, a.ChannelID, a.ExternalID, why))
		}
	}
	seen := map[msgKey]bool{}
	for _, a := range acks {
		mk := msgKey{a.ChannelID, a.ExternalID}
		if seen[mk] {
			continue // acknowledged twice (a resend answered from the first case): one message
		}
		seen[mk] = true
		t.Acked++
		c, ok := stored[mk]
		switch {
		case !ok:
			lost(a, "not in the store")
			continue
		case a.ID != "" && a.ID != c.id, a.CaseNo != "" && a.CaseNo != c.caseNo:
			lost(a, fmt.Sprintf("answered %s %s, stored as %s %s", a.ID, a.CaseNo, c.id, c.caseNo))
			continue
		}
		t.Stored++
		switch n := firsts[c.id]; {
		case n == 0:
			lost(a, "not delivered to the case system")
			continue
		case n > 1:
			t.Repeats++
		}
		t.Delivered++
		if len(keysOf[mk]) > 1 {
			t.CrossKey++
		}
	}
	return t
}

// loadStored reads every case's message identity, id and number from the store.
func loadStored(ctx context.Context, dbURL string) (map[msgKey]storedCase, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("connect to the store: %w", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT channel_id, external_id, id::text, case_no FROM cases")
	if err != nil {
		return nil, fmt.Errorf("read cases: %w", err)
	}
	out := map[msgKey]storedCase{}
	for rows.Next() {
		var k msgKey
		var c storedCase
		if err := rows.Scan(&k.channelID, &k.externalID, &c.id, &c.caseNo); err != nil {
			return nil, fmt.Errorf("read cases: %w", err)
		}
		out[k] = c
	}
	return out, rows.Err()
}

// statusLine renders a status histogram in a stable order.
func statusLine(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s×%d", k, m[k])
	}
	return s
}
