package twilio_test

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/coretest"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropTemplates()
	os.Exit(code)
}

// A MessageSid used again — from another number, or with another text — is no retry: 409, and
// nothing of the first message's case in the answer. Twilio's own retry is answered as before.
func TestReusedMessageSidGetsNothingOfTheCase(t *testing.T) {
	coretest.ForEachStore(t, func(t *testing.T, kind string) {
		core := coretest.New(t, kind, coretest.NewClock(time.Now()), func(o *app.ConversationOptions) {
			o.Conversation = app.ConversationSettings{Window: 10 * time.Minute, NewMatterPrefixes: []string{"新问题"}, QueryKeywords: []string{"查询"}}
		})
		e, _ := newServer(t, setup{other: core.Receiver})
		sig := func(body string) string { return signBody(t, testToken, publicBase+smsPath, body) }
		first := post(e, smsPath, bodyPlain, sig(bodyPlain))
		cases := core.Cases(t)
		if first.Code != http.StatusOK || len(cases) != 1 || !strings.Contains(first.Body.String(), cases[0].CaseNo) {
			t.Fatalf("first SMS: %d %s", first.Code, first.Body.String())
		}
		c := cases[0]
		otherText := strings.Replace(bodyPlain, "Body=%E5%B0%8F", "Body=%E6%9F%A5%E8%AF%A2%E5%B0%8F", 1) // "查询小…"
		for name, body := range map[string]string{
			"another number":            strings.Replace(bodyPlain, "From=%2B8613800001234", "From=%2B8613900002222", 1),
			"another number, same text": strings.Replace(otherText, "From=%2B8613800001234", "From=%2B8613900002222", 1),
			"another text":              otherText,
		} {
			rec := post(e, smsPath, body, sig(body))
			if rec.Code != http.StatusConflict || strings.Contains(rec.Body.String(), c.CaseNo) || strings.Contains(rec.Body.String(), c.QueryCode) {
				t.Fatalf("%s: %d %q", name, rec.Code, rec.Body.String())
			}
		}
		if after := core.Cases(t); len(after) != 1 || after[0].Content.Text != c.Content.Text {
			t.Fatalf("conflicting messages changed the store: %d cases", len(after))
		}
		if again := post(e, smsPath, bodyPlain, sig(bodyPlain)); again.Code != http.StatusOK || again.Body.String() != first.Body.String() {
			t.Fatalf("Twilio's retry: %d %s", again.Code, again.Body.String())
		}
	})
}
