package replies

import (
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/configs"
)

func TestShippedMessagesParseAndRender(t *testing.T) {
	r, err := Parse(configs.Messages)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Render(CaseCreated, Data{CaseNo: "WH2026112700042", QueryCode: "654321", DueDate: "12月4日"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"WH2026112700042", "654321", "12月4日前答复"} {
		if !strings.Contains(got, want) {
			t.Fatalf("case_created %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "紧急") {
		t.Fatalf("a normal case must not read as an emergency: %q", got)
	}
	urgent, _ := r.Render(CaseCreated, Data{CaseNo: "WH1", QueryCode: "1", Emergency: &Emergency{Number: "119", Advice: "请立即拨打119。"}})
	if !strings.HasPrefix(urgent, "【紧急】请立即拨打119。") {
		t.Fatalf("emergency advice must come first: %q", urgent)
	}
	public, _ := r.Render(CaseCreatedPublic, Data{CaseNo: "WH1", QueryCode: "999888"})
	if strings.Contains(public, "999888") {
		t.Fatal("the public reply leaks the query code")
	}
	if !r.Has("how_to_submit") || r.Has("nonexistent") {
		t.Fatal("Has")
	}
}

func TestBadFilesAreRejectedWithTheKey(t *testing.T) {
	full := func(extra string) string {
		var b strings.Builder
		b.WriteString("version: 1\nreplies:\n")
		for _, n := range Required() {
			b.WriteString("  " + n + ": ok\n")
		}
		b.WriteString(extra)
		return b.String()
	}
	cases := map[string]struct{ file, want string }{
		"missing text":    {"version: 1\nreplies:\n  welcome: hi\n", "replies.case_created: is required"},
		"bad template":    {full("  broken: \"{{.CaseNo\"\n"), "replies.broken"},
		"unknown field":   {full("  typo: \"{{.CaseNumber}}\"\n"), "replies.typo"},
		"wrong version":   {"version: 2\nreplies: {}\n", "version: must be 1"},
		"unknown key":     {"version: 1\nreplys: {}\n", "replys"},
		"not yaml at all": {"::::", "messages"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want it to mention %q", err, tc.want)
			}
		})
	}
	if _, err := Parse([]byte(full(""))); err != nil {
		t.Fatalf("a complete file failed: %v", err)
	}
}

func TestStatusNamesFromTheMessagesFile(t *testing.T) {
	base := "version: 1\nreplies:\n" + requiredReplies()
	r, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if r.StatusName(intake.StatusAssigned) != "办理中" {
		t.Fatalf("default name %q", r.StatusName(intake.StatusAssigned))
	}
	r, err = Parse([]byte("version: 1\nstatus_names:\n  assigned: 正在办理\nreplies:\n" + requiredReplies()))
	if err != nil {
		t.Fatal(err)
	}
	if r.StatusName(intake.StatusAssigned) != "正在办理" || r.StatusName(intake.StatusResolved) != "已办结" {
		t.Fatalf("override: %q %q", r.StatusName(intake.StatusAssigned), r.StatusName(intake.StatusResolved))
	}
	if _, err := Parse([]byte("version: 1\nstatus_names:\n  done: 好了\nreplies:\n" + requiredReplies())); err == nil || !strings.Contains(err.Error(), "status_names.done") {
		t.Fatalf("unknown status accepted: %v", err)
	}
}

func requiredReplies() string {
	var b strings.Builder
	for _, name := range Required() {
		b.WriteString("  " + name + ": x\n")
	}
	return b.String()
}
