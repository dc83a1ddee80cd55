package console

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store"
)

// Report is a period's figures in the form of the hotline's published reports: volume, channels,
// the top five categories with their shares, request types, 办结率, 按时办结率 and 满意率.
type Report struct {
	// From and To are the first and the last day of the period (local dates).
	From, To         string
	Total            int
	Channels         []shareRow
	TopCategories    []shareRow
	RequestTypes     []shareRow
	Satisfaction     []shareRow
	Resolved         int
	ResolvedOnTime   int
	ResolvedRate     string
	OnTimeRate       string
	SatisfactionRate string
	// RisingTopics are the period's hot-topic incidents (those whose first case arrived in
	// it), the largest first, at most risingTopics: what the hot-topic clustering found.
	RisingTopics []topicSummary
}

// topicSummary is one rising topic of a report.
type topicSummary struct {
	Summary   string
	Category  string
	District  string
	Size      int
	FirstSeen time.Time
}

// risingTopics bounds the topics a report lists.
const risingTopics = 10

// ReportSource is what a report reads.
type ReportSource interface {
	CaseStats(ctx context.Context, q intake.StatsQuery) (intake.Stats, error)
	ListIncidents(ctx context.Context, f intake.IncidentFilter) ([]intake.Incident, error)
}

// BuildReport computes the report of the local days from..to (both included).
func BuildReport(ctx context.Context, st ReportSource, from, to time.Time, loc *time.Location, categories []Category) (Report, error) {
	names := map[string]string{}
	for _, c := range categories {
		names[c.Code] = c.Name
	}
	c := &Console{categories: names}
	start, end := store.LocalDayStart(from, loc), store.LocalDayStart(to, loc).AddDate(0, 0, 1)
	if !start.Before(end) {
		return Report{}, fmt.Errorf("%w: the period ends before it starts", intake.ErrInvalid)
	}
	stats, err := st.CaseStats(ctx, intake.StatsQuery{From: start, To: end, Today: end, Now: end})
	if err != nil {
		return Report{}, err
	}
	r := Report{From: start.Format("2006-01-02"), To: end.AddDate(0, 0, -1).Format("2006-01-02"), Total: stats.Total,
		Resolved: stats.Resolved, ResolvedOnTime: stats.ResolvedOnTime}
	r.Channels = shares(stats.Channels, func(k string) string { return nameOr(channelNames, intake.ChannelKind(k)) }, 0)
	r.TopCategories = shares(stats.Categories, c.categoryName, 5)
	r.RequestTypes = shares(stats.RequestTypes, func(k string) string { return nameOr(requestTypeNames, intake.RequestType(k)) }, 0)
	r.Satisfaction = shares(stats.Satisfaction, func(k string) string { return nameOr(ratingNames, k) }, 0)
	r.ResolvedRate = percent(stats.Resolved, stats.Total)
	r.OnTimeRate = percent(stats.ResolvedOnTime, stats.Resolved)
	answered, content := 0, 0
	for _, k := range stats.Satisfaction {
		answered += k.Count
		if k.Key == "satisfied" || k.Key == "basically_satisfied" {
			content += k.Count
		}
	}
	r.SatisfactionRate = percent(content, answered)
	incidents, err := st.ListIncidents(ctx, intake.IncidentFilter{FirstSeenFrom: start, FirstSeenTo: end, Limit: 500})
	if err != nil {
		return Report{}, err
	}
	slices.SortStableFunc(incidents, func(a, b intake.Incident) int { return b.Size - a.Size })
	for _, in := range incidents[:min(len(incidents), risingTopics)] {
		t := topicSummary{Summary: in.Summary, Category: c.categoryName(in.Category), District: in.District, Size: in.Size,
			FirstSeen: in.FirstSeen.In(loc)}
		if t.Summary == "" {
			t.Summary = t.Category
		}
		r.RisingTopics = append(r.RisingTopics, t)
	}
	return r, nil
}

// WriteCSV writes the report as CSV: one row per figure (section, key, name, count, share).
func (r Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	rows := [][]string{
		{"section", "key", "name", "count", "share"},
		{"period", r.From, r.To, "", ""},
		{"total", "", "工单总量", strconv.Itoa(r.Total), ""},
		{"resolved", "", "办结率", strconv.Itoa(r.Resolved), r.ResolvedRate},
		{"resolved_on_time", "", "按时办结率", strconv.Itoa(r.ResolvedOnTime), r.OnTimeRate},
		{"satisfaction_rate", "", "满意率", "", r.SatisfactionRate},
	}
	for _, sec := range []struct {
		name string
		rows []shareRow
	}{{"channel", r.Channels}, {"top_category", r.TopCategories}, {"request_type", r.RequestTypes}, {"satisfaction", r.Satisfaction}} {
		for _, row := range sec.rows {
			rows = append(rows, []string{sec.name, row.Key, row.Label, strconv.Itoa(row.Count), row.Share})
		}
	}
	for _, t := range r.RisingTopics {
		rows = append(rows, []string{"rising_topic", t.District, t.Summary, strconv.Itoa(t.Size), ""})
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

type reportView struct {
	Report
	CSVURL string
	Links  []option
}

// reportPage shows a period's report (default: the last calendar month), or its CSV.
func (c *Console) reportPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := c.now().In(c.opts.Location)
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, c.opts.Location)
	from, to := thisMonth.AddDate(0, -1, 0), thisMonth.AddDate(0, 0, -1)
	var problems []string
	for _, d := range []struct {
		key string
		dst *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(d.key); v != "" {
			t, err := time.ParseInLocation("2006-01-02", v, c.opts.Location)
			if err != nil {
				problems = append(problems, "日期格式应为 YYYY-MM-DD："+v)
				continue
			}
			*d.dst = t
		}
	}
	if len(problems) == 0 && (to.Before(from) || to.Sub(from) > 366*24*time.Hour) {
		problems = append(problems, "统计区间应在一天到一年之间，且截止日期不早于起始日期")
	}
	if len(problems) > 0 {
		c.fail(w, r, nil, http.StatusBadRequest, "统计区间有误。", problems...)
		return
	}
	rep, err := BuildReport(r.Context(), c.store, from, to, c.opts.Location, c.opts.Categories)
	if err != nil {
		c.opts.Logger.Error("console: report", "error", err.Error())
		c.fail(w, r, nil, http.StatusServiceUnavailable, "暂时无法生成报表，请稍后重试。")
		return
	}
	if q.Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="report-%s-%s.csv"`, rep.From, rep.To))
		if err := rep.WriteCSV(w); err != nil {
			c.opts.Logger.Error("console: report csv", "error", err.Error())
		}
		return
	}
	link := func(label string, f, t time.Time) option {
		return option{Label: label, Value: "/console/reports?from=" + f.Format("2006-01-02") + "&to=" + t.Format("2006-01-02")}
	}
	today := store.LocalDayStart(now, c.opts.Location)
	half := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, c.opts.Location)
	if now.Month() > time.June {
		half = half.AddDate(0, 6, 0)
	}
	view := reportView{Report: rep, CSVURL: "/console/reports?from=" + rep.From + "&to=" + rep.To + "&format=csv", Links: []option{
		link("近 7 日", today.AddDate(0, 0, -6), today),
		link("本月", thisMonth, today),
		link("上月", thisMonth.AddDate(0, -1, 0), thisMonth.AddDate(0, 0, -1)),
		link("上个半年", half.AddDate(0, -6, 0), half.AddDate(0, 0, -1)),
	}}
	c.render(w, r, http.StatusOK, "reports", viewerFrom(r.Context()), view)
}

// WriteText writes the report for a terminal.
func (r Report) WriteText(w io.Writer) error {
	var err error
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	p("统计报表 %s 至 %s\n", r.From, r.To)
	p("工单总量 %d\n办结率 %s（%d 件）\n按时办结率 %s（%d 件）\n满意率 %s\n", r.Total, r.ResolvedRate, r.Resolved, r.OnTimeRate, r.ResolvedOnTime, r.SatisfactionRate)
	for _, sec := range []struct {
		title string
		rows  []shareRow
	}{{"前五类诉求", r.TopCategories}, {"受理渠道", r.Channels}, {"诉求类型", r.RequestTypes}, {"满意度回访", r.Satisfaction}} {
		p("\n%s\n", sec.title)
		for _, row := range sec.rows {
			p("  %-12s %8d  %s\n", row.Label, row.Count, row.Share)
		}
	}
	if len(r.RisingTopics) > 0 {
		p("\n热点诉求\n")
		for _, t := range r.RisingTopics {
			p("  %s %s（%s）%8d  首次 %s\n", t.District, t.Summary, t.Category, t.Size, t.FirstSeen.Format("2006-01-02 15:04"))
		}
	}
	return err
}
