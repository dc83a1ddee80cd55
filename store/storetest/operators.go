package storetest

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// OperatorStore is a store with the console's roles.
type OperatorStore interface {
	intake.Store
	intake.Operators
	intake.Review
}

// RunOperators runs the contract of the console's roles: accounts, sessions, the append-only
// audit log, case search, the dashboard's figures and classification corrections.
func RunOperators(t *testing.T, h Harness) {
	open := func(t *testing.T) OperatorStore {
		s, ok := h.Open(t, Options()).(OperatorStore)
		if !ok {
			t.Fatal("the store lacks the console's roles (intake.Operators, intake.Review)")
		}
		return s
	}
	t.Run("UsersAreUniqueAndAudited", func(t *testing.T) { testUsers(t, open(t)) })
	t.Run("SessionsLiveServerSide", func(t *testing.T) { testSessions(t, open(t)) })
	t.Run("ChangingAUserEndsItsSessions", func(t *testing.T) { testUserChanges(t, open(t)) })
	t.Run("AuditLogPagesNewestFirst", func(t *testing.T) { testAuditList(t, open(t)) })
	t.Run("AuditLogIsAppendOnly", func(t *testing.T) { testAuditAppendOnly(t, h, open(t)) })
	t.Run("SearchFiltersOnTheClassification", func(t *testing.T) { testSearch(t, open(t)) })
	t.Run("TextSearchFindsChineseSubstrings", func(t *testing.T) { testTextSearch(t, open(t)) })
	t.Run("ChannelActivityAcrossCasesAndNotifications", func(t *testing.T) { testChannelActivity(t, open(t)) })
	t.Run("DashboardFigures", func(t *testing.T) { testStats(t, open(t)) })
	t.Run("FiguresFollowCorrections", func(t *testing.T) { testStatsFollowCorrections(t, open(t)) })
	t.Run("FiguresCountResolutionsExactly", func(t *testing.T) { testStatsCountResolutions(t, open(t)) })
	t.Run("FiguresUseLocalDays", func(t *testing.T) { testStatsLocalDays(t, open(t)) })
	t.Run("CorrectionsKeepTheAutomaticResult", func(t *testing.T) { testCorrections(t, open(t)) })
}

func testUsers(t *testing.T, s OperatorStore) {
	audit := intake.AuditEntry{Actor: "root", ActorKind: intake.ActorCLI, Action: intake.AuditUserAdd, Target: "user:alice", Detail: "role=operator"}
	u, err := s.CreateUser(ctx(t), intake.User{Name: "alice", Role: intake.RoleOperator, PasswordHash: "$argon2id$x"}, audit)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == "" || u.CreatedAt.IsZero() {
		t.Fatalf("created user lacks id or time: %+v", u)
	}
	if _, err := s.CreateUser(ctx(t), intake.User{Name: "alice", Role: intake.RoleAdmin, PasswordHash: "h"}, audit); !errors.Is(err, intake.ErrExists) {
		t.Fatalf("second alice: %v, want ErrExists", err)
	}
	got, err := s.UserByName(ctx(t), "alice")
	if err != nil || got.ID != u.ID || got.Role != intake.RoleOperator || got.PasswordHash != "$argon2id$x" || got.Disabled {
		t.Fatalf("UserByName: %+v, %v", got, err)
	}
	if _, err := s.UserByName(ctx(t), "bob"); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	page, err := s.ListAudit(ctx(t), intake.AuditFilter{Action: intake.AuditUserAdd})
	if err != nil {
		t.Fatal(err)
	}
	// The refused duplicate wrote no audit entry: the entry commits with the user or not at all.
	if len(page.Entries) != 1 || page.Entries[0].Target != "user:alice" || page.Entries[0].Actor != "root" {
		t.Fatalf("audit of user.add: %+v", page.Entries)
	}
}

func testSessions(t *testing.T, s OperatorStore) {
	u, err := s.CreateUser(ctx(t), intake.User{Name: "carol", Role: intake.RoleViewer, PasswordHash: "h"}, intake.AuditEntry{Actor: "t", ActorKind: intake.ActorCLI, Action: intake.AuditUserAdd})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	old := intake.Session{IDHash: "old", UserID: u.ID, CSRFToken: "c0", CreatedAt: t0.Add(-13 * time.Hour), LastSeen: t0.Add(-13 * time.Hour), ExpiresAt: t0.Add(-time.Hour)}
	if err := s.CreateSession(ctx(t), old); err != nil {
		t.Fatal(err)
	}
	ss := intake.Session{IDHash: "h1", UserID: u.ID, CSRFToken: "csrf1", RemoteAddr: "192.0.2.1", CreatedAt: t0, LastSeen: t0, ExpiresAt: t0.Add(12 * time.Hour)}
	if err := s.CreateSession(ctx(t), ss); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SessionUser(ctx(t), "old"); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("an expired session survived the user's next sign-in: %v", err)
	}
	got, gu, err := s.SessionUser(ctx(t), "h1")
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != u.ID || got.CSRFToken != "csrf1" || got.RemoteAddr != "192.0.2.1" || !got.LastSeen.Equal(t0) || !got.ExpiresAt.Equal(t0.Add(12*time.Hour)) {
		t.Fatalf("session read back as %+v", got)
	}
	if gu.Name != "carol" || gu.Role != intake.RoleViewer {
		t.Fatalf("session's user %+v", gu)
	}
	if err := s.TouchSession(ctx(t), "h1", t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// A late, older touch does not move the time back.
	if err := s.TouchSession(ctx(t), "h1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.SessionUser(ctx(t), "h1"); !got.LastSeen.Equal(t0.Add(5 * time.Minute)) {
		t.Fatalf("last seen %v, want %v", got.LastSeen, t0.Add(5*time.Minute))
	}
	if err := s.DeleteSession(ctx(t), "h1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SessionUser(ctx(t), "h1"); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
	if err := s.DeleteSession(ctx(t), "h1"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
}

func testUserChanges(t *testing.T, s OperatorStore) {
	add := intake.AuditEntry{Actor: "t", ActorKind: intake.ActorCLI, Action: intake.AuditUserAdd}
	for _, name := range []string{"zed", "amy"} {
		if _, err := s.CreateUser(ctx(t), intake.User{Name: name, Role: intake.RoleViewer, PasswordHash: "h0"}, add); err != nil {
			t.Fatal(err)
		}
	}
	users, err := s.ListUsers(ctx(t))
	if err != nil || len(users) != 2 || users[0].Name != "amy" || users[1].Name != "zed" {
		t.Fatalf("ListUsers: %+v %v", users, err)
	}
	zed := users[1]
	t0 := time.Now().UTC()
	for _, h := range []string{"z1", "z2"} {
		if err := s.CreateSession(ctx(t), intake.Session{IDHash: h, UserID: zed.ID, CSRFToken: "c", CreatedAt: t0, LastSeen: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSession(ctx(t), intake.Session{IDHash: "a1", UserID: users[0].ID, CSRFToken: "c", CreatedAt: t0, LastSeen: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	disabled, role, hash := true, intake.RoleOperator, "h1"
	change := intake.AuditEntry{Actor: "root", ActorKind: intake.ActorCLI, Action: intake.AuditUserChange, Target: "user:zed", Detail: "disabled"}
	got, err := s.UpdateUser(ctx(t), "zed", intake.UserChange{Disabled: &disabled, Role: &role, PasswordHash: &hash}, change)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Disabled || got.Role != intake.RoleOperator || got.PasswordHash != "h1" || got.ID != zed.ID {
		t.Fatalf("changed user %+v", got)
	}
	if again, _ := s.UserByName(ctx(t), "zed"); !again.Disabled || again.Role != intake.RoleOperator || again.PasswordHash != "h1" {
		t.Fatalf("read back %+v", again)
	}
	for _, h := range []string{"z1", "z2"} {
		if _, _, err := s.SessionUser(ctx(t), h); !errors.Is(err, intake.ErrNotFound) {
			t.Fatalf("session %s of the changed user survived: %v", h, err)
		}
	}
	if _, u, err := s.SessionUser(ctx(t), "a1"); err != nil || u.Name != "amy" {
		t.Fatalf("another user's session ended: %v", err)
	}
	// Only the fields named change.
	enabled := false
	if got, err := s.UpdateUser(ctx(t), "zed", intake.UserChange{Disabled: &enabled}, change); err != nil || got.Disabled || got.Role != intake.RoleOperator || got.PasswordHash != "h1" {
		t.Fatalf("enable: %+v %v", got, err)
	}
	if _, err := s.UpdateUser(ctx(t), "nobody", intake.UserChange{Disabled: &disabled}, change); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	if page, _ := s.ListAudit(ctx(t), intake.AuditFilter{Action: intake.AuditUserChange}); len(page.Entries) != 2 {
		t.Fatalf("%d user.change entries, want 2 (the refused change writes none)", len(page.Entries))
	}
}

func testAuditList(t *testing.T, s OperatorStore) {
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	for i, action := range []string{intake.AuditLogin, intake.AuditReveal, intake.AuditReveal, intake.AuditLogin, intake.AuditReveal} {
		e := intake.AuditEntry{At: t0.Add(time.Duration(i) * time.Second), Actor: "dave", ActorKind: intake.ActorUser, Action: action,
			Target: "case:WH" + string(rune('0'+i)), RemoteAddr: "198.51.100.7", Detail: "d"}
		if err := s.AppendAudit(ctx(t), e); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.ListAudit(ctx(t), intake.AuditFilter{Action: intake.AuditReveal, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 2 || page.NextCursor == "" || page.Entries[0].Target != "case:WH4" || page.Entries[1].Target != "case:WH2" {
		t.Fatalf("first page %+v", page)
	}
	if e := page.Entries[0]; e.Actor != "dave" || e.ActorKind != intake.ActorUser || e.RemoteAddr != "198.51.100.7" || !e.At.Equal(t0.Add(4*time.Second)) {
		t.Fatalf("entry read back as %+v", e)
	}
	page, err = s.ListAudit(ctx(t), intake.AuditFilter{Action: intake.AuditReveal, Limit: 2, Cursor: page.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || page.Entries[0].Target != "case:WH1" || page.NextCursor != "" {
		t.Fatalf("second page %+v", page)
	}
	if page, _ := s.ListAudit(ctx(t), intake.AuditFilter{Target: "case:WH3"}); len(page.Entries) != 1 || page.Entries[0].Action != intake.AuditLogin {
		t.Fatalf("by target: %+v", page.Entries)
	}
	if _, err := s.ListAudit(ctx(t), intake.AuditFilter{Cursor: "bogus"}); !errors.Is(err, intake.ErrInvalid) {
		t.Fatalf("bad cursor: %v", err)
	}
}

func testAuditAppendOnly(t *testing.T, h Harness, s OperatorStore) {
	if h.ExecSQL == nil {
		t.Skip("the harness cannot run raw statements")
	}
	if err := s.AppendAudit(ctx(t), intake.AuditEntry{Actor: "eve", ActorKind: intake.ActorUser, Action: intake.AuditReveal, Target: "case:X"}); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{`UPDATE audit_log SET actor = 'mallory'`, `DELETE FROM audit_log`} {
		if err := h.ExecSQL(t, s, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the append-only refusal", stmt, err)
		}
	}
	page, err := s.ListAudit(ctx(t), intake.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || page.Entries[0].Actor != "eve" {
		t.Fatalf("audit log changed: %+v", page.Entries)
	}
}

// classified creates a case with the given classification.
func classified(t *testing.T, s intake.Store, ext string, at time.Time, channel intake.ChannelKind, category string, rt intake.RequestType, mutate func(*intake.Case)) *intake.Case {
	t.Helper()
	nc := NewCase("console", ext, at)
	nc.Case.Channel = channel
	nc.Case.Classification.Category, nc.Case.Classification.RequestType = category, rt
	nc.ForwardTo = "crm"
	if mutate != nil {
		mutate(nc.Case)
	}
	return mustCreate(t, s, nc).Case
}

func testSearch(t *testing.T, s OperatorStore) {
	t0 := time.Now().UTC().Add(-time.Hour)
	a := classified(t, s, "s1", t0, intake.ChannelWeChat, "water", intake.RequestComplaint, func(c *intake.Case) {
		c.Content.Text = "停水三天了 100%_没人管"
		c.Location = &intake.Location{District: "环翠区"}
	})
	classified(t, s, "s2", t0.Add(time.Minute), intake.ChannelSMS, "water", intake.RequestConsult, func(c *intake.Case) {
		c.Classification.NeedsReview = true
		c.Priority = intake.PriorityUrgent
	})
	classified(t, s, "s3", t0.Add(2*time.Minute), intake.ChannelWeChat, "roads", intake.RequestComplaint, nil)
	ids := func(q intake.CaseSearch) string {
		t.Helper()
		page, err := s.SearchCases(ctx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range page.Cases {
			out = append(out, x.ExternalID)
		}
		return strings.Join(out, ",")
	}
	cases := []struct {
		name string
		q    intake.CaseSearch
		want string
	}{
		{"all", intake.CaseSearch{}, "s3,s2,s1"},
		{"category", intake.CaseSearch{Category: "water"}, "s2,s1"},
		{"category and type", intake.CaseSearch{Category: "water", RequestType: intake.RequestComplaint}, "s1"},
		{"channel and type", intake.CaseSearch{CaseFilter: intake.CaseFilter{Channel: intake.ChannelWeChat}, RequestType: intake.RequestComplaint}, "s3,s1"},
		{"needs review", intake.CaseSearch{NeedsReview: true}, "s2"},
		{"priority", intake.CaseSearch{Priority: intake.PriorityUrgent}, "s2"},
		{"district", intake.CaseSearch{District: "环翠区"}, "s1"},
		{"text", intake.CaseSearch{Text: "停水"}, "s1"},
		// LIKE's own characters in the query match themselves only.
		{"text with pattern characters", intake.CaseSearch{Text: "100%_"}, "s1"},
		{"pattern characters alone", intake.CaseSearch{Text: "%"}, "s1"},
		{"no match", intake.CaseSearch{Text: "路灯不亮了吗"}, ""},
	}
	for _, tc := range cases {
		if got := ids(tc.q); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	page, err := s.SearchCases(ctx(t), intake.CaseSearch{CaseFilter: intake.CaseFilter{Limit: 2}})
	if err != nil || len(page.Cases) != 2 || page.NextCursor == "" {
		t.Fatalf("first page: %v %v", page, err)
	}
	page, err = s.SearchCases(ctx(t), intake.CaseSearch{CaseFilter: intake.CaseFilter{Limit: 2, Cursor: page.NextCursor}})
	if err != nil || len(page.Cases) != 1 || page.Cases[0].ID != a.ID {
		t.Fatalf("second page: %v %v", page, err)
	}
}

// The text filter finds a substring anywhere in a case's text, also in the middle of a Chinese
// word, with the trigram index (three characters and more) and without it (one or two), and it
// follows changes of the text.
func testTextSearch(t *testing.T, s OperatorStore) {
	t0 := time.Now().UTC().Add(-time.Hour)
	lamp := classified(t, s, "t1", t0, intake.ChannelWeChat, "roads", intake.RequestComplaint, func(c *intake.Case) {
		c.Content.Text = "文化路12号门口路灯坏了，晚上很黑 Street LAMP"
	})
	classified(t, s, "t2", t0.Add(time.Minute), intake.ChannelSMS, "water", intake.RequestComplaint, func(c *intake.Case) {
		c.Content.Text = "幸福小区停水三天了，没人管"
	})
	classified(t, s, "t3", t0.Add(2*time.Minute), intake.ChannelWeChat, "roads", intake.RequestComplaint, func(c *intake.Case) {
		c.Content.Text = "新华路的路灯也不亮"
	})
	ids := func(text string) string {
		t.Helper()
		page, err := s.SearchCases(ctx(t), intake.CaseSearch{Text: text})
		if err != nil {
			t.Fatalf("search %q: %v", text, err)
		}
		var out []string
		for _, x := range page.Cases {
			out = append(out, x.ExternalID)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct{ text, want string }{
		{"门口路灯", "t1"},        // the middle of a sentence, across two words
		{"口路灯坏", "t1"},        // starts and ends inside words
		{"路灯", "t3,t1"},       // two characters: no trigram, still found
		{"灯", "t3,t1"},        // one character
		{"小区停水", "t2"},        // three and more
		{"停水三天了，没人管", "t2"},   // with punctuation
		{"路灯修好了", ""},         // no such text
		{"street lamp", "t1"}, // ASCII letters: case does not matter, in either store
		{"路灯\" OR \"停水", ""},  // FTS5 syntax in the query is text, not operators
		{"路灯*", ""},           // nor a prefix query
		{"text: 路灯", ""},      // nor a column filter
	} {
		if got := ids(tc.text); got != tc.want {
			t.Errorf("text %q: got %q, want %q", tc.text, got, tc.want)
		}
	}
	// A change of the text reaches the index: a supplement's words are found, the old ones still.
	conv, ok := s.(intake.Conversations)
	if !ok {
		t.Fatal("the store lacks intake.Conversations")
	}
	sup := intake.Supplement{ChannelID: "console", ExternalID: "t1-more", Text: "电线杆也歪了", ReceivedAt: t0.Add(5 * time.Minute),
		PayloadHash: "t1-more", Limits: intake.SupplementLimits{MaxSupplements: 10, MaxCaseChars: 10000, MaxTextChars: 1000}}
	if _, err := conv.AddSupplement(ctx(t), lamp.ID, sup); err != nil {
		t.Fatal(err)
	}
	if got := ids("线杆也歪"); got != "t1" {
		t.Errorf("after a supplement: got %q, want t1", got)
	}
	if got := ids("门口路灯"); got != "t1" {
		t.Errorf("the original text after a supplement: got %q, want t1", got)
	}
	// The live figure counts by receipt time, bounds half-open.
	for _, tc := range []struct {
		from, to time.Time
		want     int
	}{
		{t0, t0.Add(3 * time.Minute), 3},
		{t0, t0.Add(2 * time.Minute), 2},
		{t0.Add(time.Second), t0.Add(time.Hour), 2},
		{t0.Add(time.Hour), t0.Add(2 * time.Hour), 0},
	} {
		if n, err := s.CountReceived(ctx(t), tc.from, tc.to); err != nil || n != tc.want {
			t.Errorf("CountReceived(%v, %v) = %d, %v; want %d", tc.from.Sub(t0), tc.to.Sub(t0), n, err, tc.want)
		}
	}
}

func testStats(t *testing.T, s OperatorStore) {
	loc := Shanghai
	now := time.Now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	from := today.AddDate(0, 0, -29)
	to := today.AddDate(0, 0, 1)
	// Today: two WeChat (one emergency), one SMS; the day before: one WeChat; 40 days ago: one
	// phone case outside the period.
	classified(t, s, "d1", today.Add(time.Hour), intake.ChannelWeChat, "water", intake.RequestComplaint, func(c *intake.Case) {
		c.Emergency = &intake.Emergency{Kind: intake.EmergencyFire, Number: "119"}
		overdue := now.Add(-time.Hour).UTC()
		c.DueAt = &overdue
	})
	classified(t, s, "d2", today.Add(2*time.Hour), intake.ChannelWeChat, "water", intake.RequestConsult, func(c *intake.Case) {
		soon := now.Add(3 * time.Hour).UTC()
		c.DueAt = &soon
		c.Classification.NeedsReview = true
	})
	sms := classified(t, s, "d3", today.Add(3*time.Hour), intake.ChannelSMS, "roads", intake.RequestComplaint, func(c *intake.Case) {
		later := now.Add(72 * time.Hour).UTC()
		c.DueAt = &later
	})
	classified(t, s, "d4", today.Add(-time.Hour), intake.ChannelWeChat, "roads", intake.RequestComplaint, func(c *intake.Case) {
		c.DueAt = nil
	})
	classified(t, s, "d5", today.AddDate(0, 0, -40), intake.ChannelPhone, "noise", intake.RequestHelp, nil)
	// A resolved case that was due yesterday is not overdue.
	done := classified(t, s, "d6", today.AddDate(0, 0, -3), intake.ChannelWeChat, "water", intake.RequestComplaint, func(c *intake.Case) {
		due := now.Add(-24 * time.Hour).UTC()
		c.DueAt = &due
	})
	if _, err := s.AddStatus(ctx(t), done.ID, intake.StatusChange{Status: intake.StatusResolved, Event: "resolved", At: now.Add(-time.Minute), Source: "cs", EventID: "e1"}, nil); err != nil {
		t.Fatal(err)
	}
	// Resolved before its deadline: on time. The one above was resolved a day late.
	onTime := classified(t, s, "d7", today.AddDate(0, 0, -2), intake.ChannelSMS, "roads", intake.RequestHelp, func(c *intake.Case) {
		due := now.Add(time.Hour).UTC()
		c.DueAt = &due
	})
	if _, err := s.AddStatus(ctx(t), onTime.ID, intake.StatusChange{Status: intake.StatusResolved, Event: "resolved", At: now.Add(-2 * time.Hour), Source: "cs", EventID: "e2"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddStatus(ctx(t), onTime.ID, intake.StatusChange{Status: intake.StatusClosed, Event: "closed", At: now.Add(2 * time.Hour), Source: "cs", EventID: "e3"}, nil); err != nil {
		t.Fatal(err)
	}
	for i, rating := range []string{"satisfied", "satisfied", "dissatisfied"} {
		target := done.ID
		if i == 2 {
			target = sms.ID
		}
		fb := intake.Feedback{ChannelID: "console", ExternalID: "fb" + string(rune('a'+i)), Rating: rating, Text: "x", ReceivedAt: now.Add(-time.Duration(10-i) * time.Minute)}
		if _, err := s.RecordFeedback(ctx(t), target, fb); err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.CaseStats(ctx(t), intake.StatsQuery{From: from, To: to, Today: today, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != 6 || st.Today != 3 || st.Emergencies != 1 || st.NeedsReview != 1 {
		t.Errorf("total %d today %d emergencies %d needs review %d; want 6 3 1 1", st.Total, st.Today, st.Emergencies, st.NeedsReview)
	}
	if st.Resolved != 2 || st.ResolvedOnTime != 1 {
		t.Errorf("resolved %d, on time %d; want 2 and 1", st.Resolved, st.ResolvedOnTime)
	}
	if st.Overdue != 1 || st.DueSoon != 1 {
		t.Errorf("overdue %d due soon %d; want 1 1", st.Overdue, st.DueSoon)
	}
	want := func(name string, got []intake.KeyCount, w string) {
		t.Helper()
		var parts []string
		for _, k := range got {
			parts = append(parts, k.Key+"="+strconv.Itoa(k.Count))
		}
		if g := strings.Join(parts, " "); g != w {
			t.Errorf("%s: %s, want %s", name, g, w)
		}
	}
	want("categories", st.Categories, "roads=3 water=3")
	want("request types", st.RequestTypes, "complaint=4 consult=1 help=1")
	want("channels", st.Channels, "wechat=4 sms=2")
	want("satisfaction", st.Satisfaction, "satisfied=2 dissatisfied=1")
	var days []string
	for _, d := range st.Days {
		days = append(days, d.Day+"/"+string(d.Channel)+"="+strconv.Itoa(d.Count))
	}
	todayKey, yesterday, three := today.Format("2006-01-02"), today.AddDate(0, 0, -1).Format("2006-01-02"), today.AddDate(0, 0, -3).Format("2006-01-02")
	two := today.AddDate(0, 0, -2).Format("2006-01-02")
	wantDays := three + "/wechat=1 " + two + "/sms=1 " + yesterday + "/wechat=1 " + todayKey + "/sms=1 " + todayKey + "/wechat=2"
	if g := strings.Join(days, " "); g != wantDays {
		t.Errorf("days: %s, want %s", g, wantDays)
	}
}

func testCorrections(t *testing.T, s OperatorStore) {
	t0 := time.Now().UTC().Add(-time.Hour)
	c := classified(t, s, "k1", t0, intake.ChannelWeChat, "water", intake.RequestConsult, func(c *intake.Case) {
		c.Content.Text = "小区停水两天"
		c.Classification.NeedsReview = true
	})
	audit := intake.AuditEntry{Actor: "olga", ActorKind: intake.ActorUser, Action: intake.AuditCorrection, Target: "case:" + c.CaseNo}
	got, err := s.CorrectClassification(ctx(t), c.ID, intake.Correction{Actor: "olga", Category: "utilities", CategoryName: "水电气",
		RequestType: intake.RequestComplaint, Emergency: intake.EmergencyMedical, Note: "居民投诉"}, audit)
	if err != nil {
		t.Fatal(err)
	}
	cl := got.Classification
	if cl.Category != "utilities" || cl.CategoryName != "水电气" || cl.RequestType != intake.RequestComplaint || cl.Source != "operator" ||
		cl.AutoCategory != "water" || cl.AutoRequestType != intake.RequestConsult || cl.NeedsReview {
		t.Fatalf("corrected classification %+v", cl)
	}
	if got.Emergency == nil || got.Emergency.Kind != intake.EmergencyMedical || got.Emergency.Number != "120" || got.Priority != intake.PriorityUrgent {
		t.Fatalf("emergency %+v priority %s", got.Emergency, got.Priority)
	}
	ds, err := s.Deliveries(ctx(t), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[1].Event != intake.EventCaseUpdated || ds[1].Target != "crm" {
		t.Fatalf("deliveries after the correction: %+v", ds)
	}
	// A second correction keeps the classifier's own answer as the automatic one.
	if _, err := s.CorrectClassification(ctx(t), c.ID, intake.Correction{Actor: "olga", Category: "water", RequestType: intake.RequestComplaint}, audit); err != nil {
		t.Fatal(err)
	}
	ks, err := s.Corrections(ctx(t), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 2 || ks[0].AutoCategory != "water" || ks[0].AutoRequestType != intake.RequestConsult || ks[0].Category != "utilities" ||
		ks[0].Emergency != intake.EmergencyMedical || ks[0].Note != "居民投诉" || ks[1].AutoCategory != "water" || ks[1].AutoEmergency != intake.EmergencyMedical {
		t.Fatalf("corrections %+v", ks)
	}
	if again, _ := s.GetCase(ctx(t), c.ID); again.Emergency != nil || again.Classification.AutoCategory != "water" {
		t.Fatalf("after the second correction: emergency %+v auto %q", again.Emergency, again.Classification.AutoCategory)
	}
	page, err := s.ListAudit(ctx(t), intake.AuditFilter{Action: intake.AuditCorrection})
	if err != nil || len(page.Entries) != 2 {
		t.Fatalf("audit of corrections: %+v %v", page.Entries, err)
	}
	all, err := s.ListCorrections(ctx(t), 0, 10)
	if err != nil || len(all) != 2 || all[0].Text != "小区停水两天" || all[0].Channel != intake.ChannelWeChat {
		t.Fatalf("ListCorrections: %+v %v", all, err)
	}
	if rest, err := s.ListCorrections(ctx(t), all[0].ID, 10); err != nil || len(rest) != 1 || rest[0].ID != all[1].ID {
		t.Fatalf("ListCorrections after the first: %+v %v", rest, err)
	}
	if _, err := s.CorrectClassification(ctx(t), store0UUID, intake.Correction{Category: "x", RequestType: intake.RequestOther}, audit); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("unknown case: %v", err)
	}
	if _, err := s.CorrectClassification(ctx(t), c.ID, intake.Correction{Category: "x", RequestType: "bogus"}, audit); !errors.Is(err, intake.ErrInvalid) {
		t.Fatalf("bad request type: %v", err)
	}
	if page, _ := s.ListAudit(ctx(t), intake.AuditFilter{Action: intake.AuditCorrection}); len(page.Entries) != 2 {
		t.Fatalf("a refused correction was audited: %d entries", len(page.Entries))
	}
}

const store0UUID = "01900000-0000-7000-8000-000000000000"

func testChannelActivity(t *testing.T, s OperatorStore) {
	rep, ok := s.(intake.ChannelReport)
	if !ok {
		t.Fatal("the store lacks intake.ChannelReport")
	}
	tokens, ok := s.(interface {
		SaveToken(ctx context.Context, key, value string, expiresAt time.Time) error
	})
	if !ok {
		t.Fatal("the store lacks SaveToken")
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	classified(t, s, "a0", now.Add(-48*time.Hour), intake.ChannelWeChat, "roads", intake.RequestComplaint, nil)
	c1 := classified(t, s, "a1", now.Add(-2*time.Hour), intake.ChannelWeChat, "roads", intake.RequestComplaint, nil)
	classified(t, s, "a2", now.Add(-time.Hour), intake.ChannelWeChat, "roads", intake.RequestComplaint, nil)
	for i, reason := range []string{"wechat: 45015 out of window", "wechat: 45015 out of window", "sms: 21610 unsubscribed"} {
		n, err := s.QueueNotification(ctx(t), intake.Notification{CaseID: c1.ID, Event: "resolved", Channel: intake.ChannelWeChat,
			ChannelID: "wechat-main", Address: "oX", Text: "您的工单已办结"})
		if err != nil {
			t.Fatal(err)
		}
		n.State, n.Reason, n.Attempts = intake.NotificationFailed, reason, i+1
		if err := s.UpdateNotification(ctx(t), n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.QueueNotification(ctx(t), intake.Notification{CaseID: c1.ID, Event: "resolved", Channel: intake.ChannelSMS,
		ChannelID: "sms-main", Address: "+8613800138000", Text: "您的工单已办结"}); err != nil {
		t.Fatal(err)
	}
	acts, err := rep.ChannelActivity(ctx(t), now.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// The cases came through "console"; the failed notifications went out on "wechat-main"; the
	// queued SMS is no failure, and the case of two days ago is outside the period.
	if len(acts) != 2 {
		t.Fatalf("activity: %+v", acts)
	}
	if a := acts[0]; a.ChannelID != "console" || a.Channel != intake.ChannelWeChat || a.Cases != 2 ||
		!a.LastCaseAt.Equal(now.Add(-time.Hour)) || len(a.FailedNotices) != 0 {
		t.Errorf("cases: %+v", a)
	}
	want := []intake.KeyCount{{Key: "wechat: 45015 out of window", Count: 2}, {Key: "sms: 21610 unsubscribed", Count: 1}}
	if a := acts[1]; a.ChannelID != "wechat-main" || a.Cases != 0 || !slices.Equal(a.FailedNotices, want) || a.LastFailureAt.IsZero() {
		t.Errorf("failures: %+v", a)
	}
	tokenExp := now.Add(time.Hour)
	if err := tokens.SaveToken(ctx(t), "wechat:wx9", "secret-token-value", tokenExp); err != nil {
		t.Fatal(err)
	}
	states, err := rep.TokenStates(ctx(t))
	if err != nil || len(states) != 1 || states[0].Key != "wechat:wx9" || !states[0].ExpiresAt.Equal(tokenExp) {
		t.Fatalf("token states: %+v %v", states, err)
	}
}
