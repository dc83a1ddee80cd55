// Package evaluate measures a classifier against a labelled corpus in the JSONL format of
// shared/corpus/dev.jsonl, for `intake-gateway classify --eval FILE` (issue 7).
//
// One JSON object per line:
//
//	{"id": "dev-001", "channel": "wechat", "text": "…", "category": "utilities",
//	 "category_alt": [], "request_type": "consult", "emergency": null, "notes": "…"}
//
// emergency is null or a kind (police, fire, medical, traffic). An optional "out_of_scope" (true,
// false, or a reason code) is counted when present; dev.jsonl has none. Phone transcripts
// ("坐席：…\n市民：…") are classified on the caller's turns only (normalize.ClassifiableText).
// Like normalize, the package does no I/O: the caller reads the file and passes the bytes.
package evaluate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/normalize"
)

// Example is one labelled line of the corpus.
type Example struct {
	ID          string             `json:"id"`
	Channel     string             `json:"channel"`
	Text        string             `json:"text"`
	Category    string             `json:"category"`
	CategoryAlt []string           `json:"category_alt"`
	RequestType intake.RequestType `json:"request_type"`
	// Emergency is the expected kind, or "" for none.
	Emergency intake.EmergencyKind `json:"emergency"`
	// OutOfScope is nil when the line does not say; true or a reason code mean out of scope.
	OutOfScope *OutOfScopeLabel `json:"out_of_scope,omitempty"`
	Notes      string           `json:"notes"`
}

// OutOfScopeLabel accepts true/false or a reason code ("litigation"; "" means in scope).
type OutOfScopeLabel struct {
	Out  bool
	Code string
}

// UnmarshalJSON implements json.Unmarshaler.
func (l *OutOfScopeLabel) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case bool:
		l.Out = x
	case string:
		l.Out, l.Code = x != "", x
	case nil:
	default:
		return fmt.Errorf("out_of_scope: want true, false or a reason code, got %s", b)
	}
	return nil
}

// ParseJSONL parses a corpus. Blank lines and lines starting with '#' or "//" are skipped.
// Errors give the line number.
func ParseJSONL(data []byte) ([]Example, error) {
	var out []Example
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' || bytes.HasPrefix(line, []byte("//")) {
			continue
		}
		var e Example
		dec := json.NewDecoder(bytes.NewReader(line))
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		if e.ID == "" {
			e.ID = fmt.Sprintf("line-%d", n+1)
		}
		if e.Category == "" || e.RequestType == "" {
			return nil, fmt.Errorf("line %d (%s): category and request_type are required", n+1, e.ID)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no examples")
	}
	return out, nil
}

// Outcome is one example with its prediction.
type Outcome struct {
	Example
	Result          normalize.Result
	CategoryOK      bool
	RequestTypeOK   bool
	EmergencyFound  bool // an emergency was labelled and one was detected (any kind)
	EmergencyKindOK bool
	FalseAlarm      bool // an emergency was detected where none was labelled
}

// Report is the evaluation of a corpus.
type Report struct {
	Outcomes []Outcome

	Total, CategoryCorrect, RequestTypeCorrect int
	// Emergencies labelled, found (any kind), found with the right kind; false alarms among
	// the rest, and among the lines whose notes say "hard negative".
	Emergencies, EmergenciesFound, EmergencyKindCorrect int
	FalseAlarms, HardNegatives, HardNegativeFalseAlarms int
	// Out of scope: OutOfScopeLabelled is false when no line carries the label.
	OutOfScopeLabelled                                 bool
	OutOfScopePositives, OutOfScopeFound, OutOfScopeFP int

	// Confusion counts gold category → predicted category (a prediction in category_alt counts
	// as the gold category). RequestConfusion does the same for request types.
	Confusion        map[string]map[string]int
	RequestConfusion map[string]map[string]int
	// Categories are the codes in taxonomy order, for printing.
	Categories []string
}

// Evaluate parses a corpus and runs the classifier over it.
func Evaluate(c *normalize.Classifier, jsonl []byte) (*Report, error) {
	ex, err := ParseJSONL(jsonl)
	if err != nil {
		return nil, err
	}
	return Run(c, ex), nil
}

// Run classifies every example.
func Run(c *normalize.Classifier, examples []Example) *Report {
	r := &Report{
		Confusion:        map[string]map[string]int{},
		RequestConfusion: map[string]map[string]int{},
	}
	for _, cat := range c.Rules().Taxonomy.Categories {
		r.Categories = append(r.Categories, cat.Code)
	}
	for _, e := range examples {
		res := c.Classify(normalize.ClassifiableText(e.Text))
		o := Outcome{Example: e, Result: res}
		o.CategoryOK = res.Category == e.Category || slices.Contains(e.CategoryAlt, res.Category)
		o.RequestTypeOK = res.RequestType == e.RequestType
		r.Total++
		if o.CategoryOK {
			r.CategoryCorrect++
		}
		if o.RequestTypeOK {
			r.RequestTypeCorrect++
		}
		gold, pred := e.Category, res.Category
		if o.CategoryOK {
			pred = gold
		}
		inc(r.Confusion, gold, pred)
		inc(r.RequestConfusion, string(e.RequestType), string(res.RequestType))

		switch {
		case e.Emergency != "":
			r.Emergencies++
			if res.Emergency != nil {
				o.EmergencyFound = true
				r.EmergenciesFound++
				if res.Emergency.Kind == e.Emergency {
					o.EmergencyKindOK = true
					r.EmergencyKindCorrect++
				}
			}
		case res.Emergency != nil:
			o.FalseAlarm = true
			r.FalseAlarms++
		}
		if strings.Contains(strings.ToLower(e.Notes), "hard negative") {
			r.HardNegatives++
			if o.FalseAlarm {
				r.HardNegativeFalseAlarms++
			}
		}
		if e.OutOfScope != nil {
			r.OutOfScopeLabelled = true
			switch {
			case e.OutOfScope.Out:
				r.OutOfScopePositives++
				if res.OutOfScope {
					r.OutOfScopeFound++
				}
			case res.OutOfScope:
				r.OutOfScopeFP++
			}
		}
		r.Outcomes = append(r.Outcomes, o)
	}
	return r
}

func inc(m map[string]map[string]int, a, b string) {
	if m[a] == nil {
		m[a] = map[string]int{}
	}
	m[a][b]++
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// CategoryAccuracy is the share of examples whose category is right (or an accepted alternative).
func (r *Report) CategoryAccuracy() float64 { return ratio(r.CategoryCorrect, r.Total) }

// RequestTypeAccuracy is the share of examples whose request type is right.
func (r *Report) RequestTypeAccuracy() float64 { return ratio(r.RequestTypeCorrect, r.Total) }

// EmergencyRecall is the share of labelled emergencies detected (any kind); 1 when none labelled.
func (r *Report) EmergencyRecall() float64 {
	if r.Emergencies == 0 {
		return 1
	}
	return ratio(r.EmergenciesFound, r.Emergencies)
}

// OutOfScopeRecall is the share of out-of-scope examples flagged; 1 when none are labelled.
func (r *Report) OutOfScopeRecall() float64 {
	if r.OutOfScopePositives == 0 {
		return 1
	}
	return ratio(r.OutOfScopeFound, r.OutOfScopePositives)
}

// Print writes the report for a person: the figures, the confusion table of categories, the
// request-type confusion, and every miss with the terms that decided it.
func (r *Report) Print(w io.Writer) error {
	p := &printer{w: w}
	p.f("examples                 %d\n", r.Total)
	p.f("category accuracy        %5.1f%%  (%d/%d; a prediction in category_alt counts)\n", 100*r.CategoryAccuracy(), r.CategoryCorrect, r.Total)
	p.f("request type accuracy    %5.1f%%  (%d/%d)\n", 100*r.RequestTypeAccuracy(), r.RequestTypeCorrect, r.Total)
	p.f("emergency recall         %5.1f%%  (%d/%d found; right kind %d)\n", 100*r.EmergencyRecall(), r.EmergenciesFound, r.Emergencies, r.EmergencyKindCorrect)
	p.f("emergency false alarms   %d of %d without emergency (hard negatives: %d of %d)\n", r.FalseAlarms, r.Total-r.Emergencies, r.HardNegativeFalseAlarms, r.HardNegatives)
	if r.OutOfScopeLabelled {
		p.f("out-of-scope recall      %5.1f%%  (%d/%d; %d flagged wrongly)\n", 100*r.OutOfScopeRecall(), r.OutOfScopeFound, r.OutOfScopePositives, r.OutOfScopeFP)
	} else {
		p.f("out-of-scope recall      n/a (the corpus has no out_of_scope labels)\n")
	}

	codes := slices.Clone(r.Categories)
	for gold, row := range r.Confusion {
		for pred := range row {
			for _, c := range []string{gold, pred} {
				if !slices.Contains(codes, c) {
					codes = append(codes, c)
				}
			}
		}
	}
	p.f("\ncategory confusion (rows: gold, columns: predicted; numbers are the row codes)\n")
	p.f("%-22s", "")
	for i := range codes {
		p.f("%4d", i+1)
	}
	p.f("\n")
	for i, gold := range codes {
		row := r.Confusion[gold]
		total := 0
		for _, n := range row {
			total += n
		}
		if total == 0 {
			continue
		}
		p.f("%2d %-19s", i+1, gold)
		for _, pred := range codes {
			if n := row[pred]; n > 0 {
				p.f("%4d", n)
			} else {
				p.f("%4s", ".")
			}
		}
		p.f("   %d/%d\n", row[gold], total)
	}

	rts := []string{"consult", "help", "complaint", "report", "suggestion", "praise", "other"}
	p.f("\nrequest type confusion (rows: gold, columns: predicted)\n%-12s", "")
	for _, c := range rts {
		p.f("%6.6s", c)
	}
	p.f("\n")
	for _, gold := range rts {
		row := r.RequestConfusion[gold]
		if len(row) == 0 {
			continue
		}
		p.f("%-12s", gold)
		for _, pred := range rts {
			if n := row[pred]; n > 0 {
				p.f("%6d", n)
			} else {
				p.f("%6s", ".")
			}
		}
		p.f("\n")
	}

	p.f("\nmisses\n")
	for _, o := range r.Outcomes {
		var what []string
		if !o.CategoryOK {
			what = append(what, fmt.Sprintf("category %s→%s", o.Category, o.Result.Category))
		}
		if !o.RequestTypeOK {
			what = append(what, fmt.Sprintf("request %s→%s", o.RequestType, o.Result.RequestType))
		}
		if o.Emergency != "" && !o.EmergencyFound {
			what = append(what, "emergency "+string(o.Emergency)+" missed")
		} else if o.Emergency != "" && !o.EmergencyKindOK {
			what = append(what, fmt.Sprintf("emergency %s→%s", o.Emergency, o.Result.Emergency.Kind))
		}
		if o.FalseAlarm {
			what = append(what, "false alarm "+string(o.Result.Emergency.Kind))
		}
		if len(what) == 0 {
			continue
		}
		p.f("  %-10s %s  [%s]\n", o.ID, strings.Join(what, "; "), strings.Join(o.Result.MatchedTerms, ","))
	}
	return p.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
