// Package replies renders the texts the gateway sends to citizens. The texts live in
// configs/messages.yaml as Go templates so that operators can change them without a release;
// a file that does not parse, or lacks a text the gateway needs, is rejected at load.
package replies

import (
	"bytes"
	"fmt"
	"strings"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/hotline12345/intake-gateway"
	"go.yaml.in/yaml/v3"
)

// Names of the texts the gateway itself uses. Menu replies may add more.
const (
	CaseCreated       = "case_created"
	CaseCreatedPublic = "case_created_public"
	CaseMerged        = "case_merged"
	SupplementAdded   = "supplement_added"
	CaseFull          = "case_full"
	Status            = "status"
	StatusNotFound    = "status_not_found"
	StatusRateLimited = "status_rate_limited"
	OptOut            = "opt_out"
	OptIn             = "opt_in"
	Welcome           = "welcome"
	SurveyThanks      = "survey_thanks"
	SurveyReopened    = "survey_reopened"
)

// Required lists the texts every messages file must define.
func Required() []string {
	return []string{CaseCreated, CaseCreatedPublic, CaseMerged, SupplementAdded, CaseFull, Status, StatusNotFound, StatusRateLimited, OptOut, OptIn, Welcome}
}

// Replies is a parsed messages file. It is immutable, so a reload can swap it atomically.
type Replies struct {
	templates   map[string]*template.Template
	statusNames map[intake.Status]string
}

type file struct {
	Version int               `yaml:"version"`
	Replies map[string]string `yaml:"replies"`
	// StatusNames are what citizens read for a case's status (.StatusName); any left out keeps
	// its default.
	StatusNames map[string]string `yaml:"status_names"`
}

// DefaultStatusNames are the status names of a messages file that sets none.
func DefaultStatusNames() map[intake.Status]string {
	return map[intake.Status]string{
		intake.StatusReceived: "已受理", intake.StatusForwarded: "已转办", intake.StatusAccepted: "已签收",
		intake.StatusAssigned: "办理中", intake.StatusResolved: "已办结", intake.StatusClosed: "已关闭", intake.StatusRejected: "已退回",
	}
}

// Parse reads a messages file.
func Parse(data []byte) (*Replies, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("messages: version: must be 1, got %d", f.Version)
	}
	r := &Replies{templates: map[string]*template.Template{}, statusNames: DefaultStatusNames()}
	var errs []string
	for status, name := range f.StatusNames {
		if _, known := r.statusNames[intake.Status(status)]; !known {
			errs = append(errs, fmt.Sprintf("status_names.%s: not a case status", status))
			continue
		}
		if strings.TrimSpace(name) == "" {
			errs = append(errs, fmt.Sprintf("status_names.%s: is empty", status))
			continue
		}
		r.statusNames[intake.Status(status)] = strings.TrimSpace(name)
	}
	for name, text := range f.Replies {
		t, err := template.New(name).Option("missingkey=error").Parse(strings.TrimSpace(text))
		if err != nil {
			errs = append(errs, fmt.Sprintf("replies.%s: %v", name, err))
			continue
		}
		r.templates[name] = t
	}
	for _, name := range Required() {
		if _, ok := f.Replies[name]; !ok {
			errs = append(errs, fmt.Sprintf("replies.%s: is required", name))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("messages: %s", strings.Join(errs, "; "))
	}
	// Render every text once with sample data, so a template that refers to a field that does
	// not exist fails now rather than in front of a citizen.
	for name, t := range r.templates {
		if err := t.Execute(new(bytes.Buffer), Sample()); err != nil {
			return nil, fmt.Errorf("messages: replies.%s: %v", name, err)
		}
	}
	return r, nil
}

// Has reports whether a text is defined.
func (r *Replies) Has(name string) bool {
	_, ok := r.templates[name]
	return ok
}

// Render fills the named text with data.
func (r *Replies) Render(name string, data Data) (string, error) {
	t, ok := r.templates[name]
	if !ok {
		return "", fmt.Errorf("reply %q is not defined", name)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render reply %q: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// StatusName is what citizens read for a case status.
func (r *Replies) StatusName(s intake.Status) string { return r.statusNames[s] }

// CaseData is what a reply may say of c: its number and query code, status, deadline (a date in
// loc), the case system's latest word, the emergency advice and the referral of a matter outside
// the hotline's remit. Public is left false: the caller sets it (and drops the query code) for a
// publicly visible reply.
func (r *Replies) CaseData(c *intake.Case, loc *time.Location) Data {
	d := Data{
		CaseNo: c.CaseNo, QueryCode: c.QueryCode, StatusName: r.StatusName(c.Status),
		OutOfScope: c.Classification.OutOfScope, OutOfScopeReason: c.Classification.OutOfScopeReason,
	}
	if c.DueAt != nil {
		if loc == nil {
			loc = time.UTC
		}
		due := c.DueAt.In(loc)
		d.DueDate = fmt.Sprintf("%d月%d日", int(due.Month()), due.Day())
	}
	if c.Emergency != nil {
		d.Emergency = &Emergency{Number: c.Emergency.Number, Advice: c.Emergency.Advice}
	}
	if n := len(c.StatusHistory); n > 0 {
		last := c.StatusHistory[n-1]
		d.Department, d.Message = last.Department, last.Message
	}
	return d
}

// Emergency is what replies may say about an emergency.
type Emergency struct {
	Number string
	Advice string
}

// Data is what a reply template can use.
type Data struct {
	CaseNo string
	// OriginalCaseNo is the case a repeated request was merged into.
	OriginalCaseNo   string
	QueryCode        string
	StatusName       string
	DueDate          string
	Department       string
	Message          string
	Emergency        *Emergency
	OutOfScope       bool
	OutOfScopeReason string
	Public           bool
}

// Sample is data with every field set, used to check templates at load.
func Sample() Data {
	return Data{CaseNo: "WH2026112700042", OriginalCaseNo: "WH2026112500007", QueryCode: "123456", StatusName: "办理中", DueDate: "12月4日",
		Department: "市城管局", Message: "已派人现场查看", Emergency: &Emergency{Number: "119", Advice: "请立即拨打119。"},
		OutOfScope: true, OutOfScopeReason: "该事项已进入诉讼程序，请通过法院反映。", Public: true}
}

// Current holds the texts in use. A reload (SIGHUP) swaps them whole: whoever renders sees the
// old set or the new one, never a mix. The conversation and the notifier share one.
type Current struct{ p atomic.Pointer[Replies] }

// NewCurrent holds r.
func NewCurrent(r *Replies) *Current {
	c := &Current{}
	c.p.Store(r)
	return c
}

// Load returns the texts in use.
func (c *Current) Load() *Replies { return c.p.Load() }

// Swap puts r in use.
func (c *Current) Swap(r *Replies) { c.p.Store(r) }
