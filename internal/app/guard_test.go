package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/coretest"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropTemplates()
	os.Exit(code)
}

// syncBuffer is a log sink tests can read while receivers write to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func guardedCore(t *testing.T, kind string, logs *syncBuffer, lim intake.SupplementLimits) (*coretest.Core, *coretest.Clock) {
	t.Helper()
	clock := coretest.NewClock(time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC))
	core := coretest.New(t, kind, clock, func(o *app.ConversationOptions) {
		o.Conversation = app.ConversationSettings{
			Window: 10 * time.Minute, NewMatterPrefixes: []string{"新问题"}, QueryKeywords: []string{"查询"},
			QueryLimit: 5, QueryPeriod: 10 * time.Minute,
			QueryFailLimit: 5, QueryFailWindow: 15 * time.Minute, QueryLockout: 15 * time.Minute,
		}
		o.Supplements = lim
		if logs != nil {
			o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	})
	return core, clock
}

func receive(t *testing.T, r *app.Conversation, m app.Message) app.Reply {
	t.Helper()
	reply, err := r.Receive(context.Background(), m)
	if err != nil {
		t.Fatalf("Receive(%s): %v", m.Submission.ExternalID, err)
	}
	return reply
}

// Six-digit query codes fall to guessing unless failures are counted where every replica sees
// them and whatever sender id is used. After 5 failures for a case number, nobody — with the
// right code, at any replica — gets its status for the lockout, except its own citizen; the
// answer is the neutral miss, the same as for a number that does not exist.
func TestQueryCodeGuessingLocksTheCaseNumberOut(t *testing.T) {
	coretest.ForEachStore(t, func(t *testing.T, kind string) {
		logs := &syncBuffer{}
		core, clock := guardedCore(t, kind, logs, intake.SupplementLimits{})
		r := core.Receiver
		c := receive(t, r, wechat("own-1", "oOwner", "小区门口路灯坏了一周")).Case
		other := receive(t, r, wechat("own-2", "oNeighbour", "楼道里堆满杂物")).Case
		miss := receive(t, r, wechat("probe-0", "oProbe0", "查询 WH2099010100001 123456")).Text

		wrong := fmt.Sprintf("%06d", (atoi(c.QueryCode)+1)%1_000_000)
		for i := range 6 {
			got := receive(t, r, wechat(fmt.Sprint("guess-", i), fmt.Sprint("oGuesser", i), "查询 "+c.CaseNo+" "+wrong))
			if got.Text != miss {
				t.Fatalf("wrong code %d answered %q, want the neutral miss", i, got.Text)
			}
		}
		correct := "查询 " + c.CaseNo + " " + c.QueryCode
		stranger := receive(t, r, wechat("guess-right", "oStranger", correct))
		if stranger.Text != miss || strings.Contains(stranger.Text, c.CaseNo) || stranger.Case != nil {
			t.Fatalf("the right code after 5 failures answered %q, want the neutral miss", stranger.Text)
		}
		replica := core.Replica(t)
		if got := receive(t, replica, wechat("guess-replica", "oStranger2", correct)); got.Text != miss {
			t.Fatalf("another replica answered %q during the lockout", got.Text)
		}
		// The case's own citizen, on the identity the case came from, still gets the status.
		for _, rr := range []*app.Conversation{r, replica} {
			if got := receive(t, rr, wechat("owner-"+fmt.Sprint(rr == replica), "oOwner", correct)); !strings.Contains(got.Text, c.CaseNo) || got.Case == nil {
				t.Fatalf("the owner was locked out: %q", got.Text)
			}
		}
		// Another case number is not affected.
		if got := receive(t, r, wechat("other-case", "oStranger3", "查询 "+other.CaseNo+" "+other.QueryCode)); !strings.Contains(got.Text, other.CaseNo) {
			t.Fatalf("another case was locked too: %q", got.Text)
		}
		// The lockout is logged once, at warn, with the case number and nothing personal.
		out := logs.String()
		if n := strings.Count(out, `"case_no":"`+c.CaseNo+`"`); n != 1 || !strings.Contains(out, `"level":"WARN"`) {
			t.Fatalf("lockout logged %d times:\n%s", n, out)
		}
		for _, secret := range []string{"oGuesser", "oStranger", "oOwner", c.QueryCode} {
			if strings.Contains(out, secret) {
				t.Fatalf("the log holds %q:\n%s", secret, out)
			}
		}
		// Once the lockout is over, the right code works again.
		clock.Advance(16 * time.Minute)
		if got := receive(t, r, wechat("after", "oStranger4", correct)); !strings.Contains(got.Text, c.CaseNo) {
			t.Fatalf("after the lockout: %q", got.Text)
		}
		if n := len(core.Cases(t)); n != 2 {
			t.Fatalf("status queries made cases: %d", n)
		}
	})
}

// One sender spraying case numbers is locked out too, across case numbers.
func TestQueryGuessingLocksTheSenderOut(t *testing.T) {
	coretest.ForEachStore(t, func(t *testing.T, kind string) {
		core, _ := guardedCore(t, kind, nil, intake.SupplementLimits{})
		r := core.Receiver
		c := receive(t, r, wechat("s-1", "oOwner", "路面塌陷需要维修")).Case
		miss := receive(t, r, wechat("s-probe", "oProbe", "查询 WH2099010100001 123456")).Text
		// The per-process limit is 5 queries per period; a second replica (its own memory) gives
		// the sender the rest of their guesses, and the store still counts them all.
		replica := core.Replica(t)
		for i := range 5 {
			rr := r
			if i >= 3 {
				rr = replica
			}
			if got := receive(t, rr, wechat(fmt.Sprint("spray-", i), "oSprayer", fmt.Sprintf("查询 WH20261127%05d 123456", 900+i))); got.Text != miss {
				t.Fatalf("spray %d: %q", i, got.Text)
			}
		}
		if got := receive(t, replica, wechat("spray-right", "oSprayer", "查询 "+c.CaseNo+" "+c.QueryCode)); got.Text != miss {
			t.Fatalf("a locked-out sender got %q", got.Text)
		}
		if got := receive(t, replica, wechat("other-sender", "oOther", "查询 "+c.CaseNo+" "+c.QueryCode)); !strings.Contains(got.Text, c.CaseNo) {
			t.Fatalf("another sender was locked out: %q", got.Text)
		}
	})
}

// A case takes at most MaxSupplements supplements and MaxCaseChars characters of text; past
// either, the citizen is told the case is full and to start a new matter, and nothing is added.
// One supplement over MaxTextChars is refused as an over-long message is.
func TestSupplementsStopAtTheCaseLimits(t *testing.T) {
	coretest.ForEachStore(t, func(t *testing.T, kind string) {
		core, _ := guardedCore(t, kind, nil, intake.SupplementLimits{MaxTextChars: 300, MaxCaseChars: 600, MaxSupplements: 3})
		r := core.Receiver
		c := receive(t, r, wechat("f-0", "oFull", "垃圾站三天没有清运，气味很大")).Case
		for i := range 3 {
			if got := receive(t, r, wechat(fmt.Sprint("f-", i+1), "oFull", fmt.Sprint("补充说明第", i+1, "条"))); got.Outcome != app.OutcomeSupplement {
				t.Fatalf("supplement %d: %s %q", i+1, got.Outcome, got.Text)
			}
		}
		before, _ := core.Store.GetCase(context.Background(), c.ID)
		full := receive(t, r, wechat("f-4", "oFull", "第四条补充"))
		if full.Outcome != app.OutcomeCaseFull || !strings.Contains(full.Text, "新问题") || !strings.Contains(full.Text, c.CaseNo) {
			t.Fatalf("the 4th supplement: %s %q", full.Outcome, full.Text)
		}
		after, _ := core.Store.GetCase(context.Background(), c.ID)
		if after.Content.Text != before.Content.Text || strings.Contains(after.Content.Text, "第四条") {
			t.Fatalf("a refused supplement was added: %q", after.Content.Text)
		}
		// Its retry is refused the same way (nothing was stored for it).
		if again := receive(t, r, wechat("f-4", "oFull", "第四条补充")); again.Outcome != app.OutcomeCaseFull || again.Text != full.Text {
			t.Fatalf("retry of the refused supplement: %s %q", again.Outcome, again.Text)
		}
		// A new matter is still taken.
		if nm := receive(t, r, wechat("f-5", "oFull", "新问题 楼下烧烤油烟太大")); nm.Outcome != app.OutcomeCreated || nm.Case.ID == c.ID {
			t.Fatalf("new matter: %s", nm.Outcome)
		}

		// Text: a 20,000-character supplement is refused like an over-long message; supplements
		// that would take the case past 600 characters are refused as full.
		c2 := receive(t, r, wechat("g-0", "oLong", "小区门口路灯坏了")).Case
		if _, err := r.Receive(context.Background(), wechat("g-1", "oLong", strings.Repeat("长", 20000))); !errors.Is(err, intake.ErrInvalid) {
			t.Fatalf("a 20,000-character supplement: %v, want ErrInvalid", err)
		}
		if got := receive(t, r, wechat("g-2", "oLong", strings.Repeat("补", 290))); got.Outcome != app.OutcomeSupplement {
			t.Fatalf("a 290-character supplement: %s", got.Outcome)
		}
		if got := receive(t, r, wechat("g-3", "oLong", strings.Repeat("充", 290))); got.Outcome != app.OutcomeCaseFull {
			t.Fatalf("a supplement past 600 characters: %s", got.Outcome)
		}
		got, _ := core.Store.GetCase(context.Background(), c2.ID)
		if n := len([]rune(got.Content.Text)); n > 600 || strings.Contains(got.Content.Text, "充充") {
			t.Fatalf("case text is %d characters: %q", n, got.Content.Text)
		}
	})
}

// Supplements arriving at several replicas at once (each with its own per-citizen lock) still
// stop at the limit: the store counts them inside its transaction.
func TestConcurrentSupplementsAtTwoReplicasStopAtTheLimit(t *testing.T) {
	coretest.ForEachStore(t, func(t *testing.T, kind string) {
		core, _ := guardedCore(t, kind, nil, intake.SupplementLimits{MaxTextChars: 300, MaxCaseChars: 20000, MaxSupplements: 4})
		receivers := []*app.Conversation{core.Receiver, core.Replica(t)}
		c := receive(t, receivers[0], wechat("h-0", "oRace", "小区门口井盖松动")).Case
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			outcomes = map[app.Outcome]int{}
		)
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				reply, err := receivers[i%2].Receive(context.Background(), wechat(fmt.Sprint("h-", i+1), "oRace", fmt.Sprint("并发补充", i)))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				outcomes[reply.Outcome]++
			}()
		}
		wg.Wait()
		if outcomes[app.OutcomeSupplement] != 4 || outcomes[app.OutcomeCaseFull] != 8 {
			t.Fatalf("12 concurrent supplements to a case that takes 4: %v", outcomes)
		}
		got, _ := core.Store.GetCase(context.Background(), c.ID)
		if n := strings.Count(got.Content.Text, "[补充"); n != 4 {
			t.Fatalf("the case holds %d supplements", n)
		}
	})
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}
