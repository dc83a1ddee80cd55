package evaluate

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Print writes the report for a person: the figures, per-class precision and recall, the
// confusion tables, and every miss with what decided it (ids only: no citizen text).
func (r *Report) Print(w io.Writer) error {
	p := &printer{w: w}
	if r.Folds > 0 {
		p.f("%d-fold cross-validation (each example scored by a model trained without its fold)\n", r.Folds)
	}
	p.f("examples                 %d\n", r.Total)
	p.f("category accuracy        %5.1f%%  (%d/%d; a prediction in category_alt counts)\n", 100*r.CategoryAccuracy(), r.CategoryCorrect, r.Total)
	p.f("request type accuracy    %5.1f%%  (%d/%d)\n", 100*r.RequestTypeAccuracy(), r.RequestTypeCorrect, r.Total)
	p.f("emergency recall         %5.1f%%  (%d/%d found; right kind %d)\n", 100*r.EmergencyRecall(), r.EmergenciesFound, r.Emergencies, r.EmergencyKindCorrect)
	p.f("emergency false alarms   %5.1f%%  (%d of %d without emergency; hard negatives: %d of %d; long letters: %d of %d)\n",
		100*r.FalseAlarmRate(), r.FalseAlarms, r.Total-r.Emergencies, r.HardNegativeFalseAlarms, r.HardNegatives, r.LongLetterFalseAlarms, r.LongLetters)
	if r.OutOfScopeLabelled {
		p.f("out-of-scope recall      %5.1f%%  (%d/%d; referral kind right %d of %d)\n", 100*r.OutOfScopeRecall(), r.OutOfScopeFound, r.OutOfScopePositives, r.OutOfScopeKindCorrect, r.OutOfScopeKindLabelled)
		p.f("out-of-scope false flags %5.1f%%  (%d of %d in scope)\n", 100*r.OutOfScopeFalseRate(), r.OutOfScopeFP, r.OutOfScopeNegatives)
	} else {
		p.f("out-of-scope recall      n/a (the corpus has no out_of_scope labels)\n")
	}
	p.f("needs review             %d (%d of them with a wrong category or request type)\n", r.NeedsReview, r.NeedsReviewWrong)

	if groups := r.slices(); len(groups) > 1 {
		p.f("\nby id prefix             examples  category  request  emergency found  false alarms\n")
		for _, s := range groups {
			p.f("  %-22s %8d  %7.1f%%  %6.1f%%  %9d/%-5d  %d\n", s.prefix, s.n, 100*ratio(s.cat, s.n), 100*ratio(s.req, s.n), s.emFound, s.em, s.fa)
		}
	}

	for _, d := range []string{"category", "request_type", "emergency", "out_of_scope"} {
		scores := r.PerClass(d)
		if len(scores) == 0 {
			continue
		}
		p.f("\n%-22s %6s %6s %6s %9s %7s\n", d, "gold", "pred", "right", "precision", "recall")
		for _, s := range scores {
			p.f("  %-20s %6d %6d %6d %8.1f%% %6.1f%%\n", s.Class, s.Gold, s.Predicted, s.Right, 100*s.Precision, 100*s.Recall)
		}
	}

	codes := slices.Clone(r.Categories)
	for _, gold := range slices.Sorted(maps.Keys(r.Confusion)) {
		for _, pred := range slices.Sorted(maps.Keys(r.Confusion[gold])) {
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
			what = append(what, "false alarm "+string(o.Result.Emergency.Kind)+" by "+o.Result.EmergencySource)
		}
		if o.OutOfScope != nil && o.OutOfScope.Out && !o.Result.OutOfScope {
			what = append(what, "out of scope missed")
		}
		if o.OutOfScope != nil && !o.OutOfScope.Out && o.Result.OutOfScope {
			what = append(what, "flagged out of scope ("+o.Result.OutOfScopeCode+") by "+o.Result.OutOfScopeSource)
		}
		if len(what) == 0 {
			continue
		}
		p.f("  %-10s %s  [%s]\n", o.ID, strings.Join(what, "; "), strings.Join(o.Result.MatchedTerms, ","))
	}
	return p.err
}

type sliceFigures struct {
	prefix                       string
	n, cat, req, em, emFound, fa int
}

// slices groups the outcomes by the id's prefix (the corpus's slices: em-, oos-, lt-, …).
func (r *Report) slices() []sliceFigures {
	by := map[string]*sliceFigures{}
	for _, o := range r.Outcomes {
		prefix, _, ok := strings.Cut(o.ID, "-")
		if !ok {
			prefix = "(none)"
		}
		s := by[prefix]
		if s == nil {
			s = &sliceFigures{prefix: prefix}
			by[prefix] = s
		}
		s.n++
		if o.CategoryOK {
			s.cat++
		}
		if o.RequestTypeOK {
			s.req++
		}
		if o.Emergency != "" {
			s.em++
			if o.EmergencyFound {
				s.emFound++
			}
		}
		if o.FalseAlarm {
			s.fa++
		}
	}
	out := make([]sliceFigures, 0, len(by))
	for _, s := range by {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b sliceFigures) int { return cmp.Compare(a.prefix, b.prefix) })
	return out
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
