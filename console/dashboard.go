package console

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store"
)

// statDays is the dashboard's period: today and the 29 days before it.
const statDays = 30

type shareRow struct {
	Key   string
	Label string
	Count int
	Share string
	// Bar is the row's bar length in the SVG, 0-200.
	Bar int
}

type barRect struct {
	X, Y, W, H int
	Fill       string
	Title      string
}

type axisLabel struct {
	X, Y int
	Text string
}

type legendItem struct {
	Label string
	Fill  string
}

type chartView struct {
	Width, Height int
	Bars          []barRect
	Labels        []axisLabel
	Legend        []legendItem
	Max           int
}

type dashView struct {
	Stats            intake.Stats
	From, To         string
	Chart            chartView
	Channels         []shareRow
	TopCategories    []shareRow
	RequestTypes     []shareRow
	Satisfaction     []shareRow
	SatisfactionRate string
	Notices          []shareRow
	DeliveryRate     string
	// OpenIncidents counts the hot-topic incidents still open.
	OpenIncidents int
}

func percent(n, total int) string {
	if total == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", float64(n)*100/float64(total))
}

func shares(counts []intake.KeyCount, label func(string) string, limit int) []shareRow {
	total, top := 0, 0
	for _, k := range counts {
		total += k.Count
		top = max(top, k.Count)
	}
	var out []shareRow
	for i, k := range counts {
		if limit > 0 && i == limit {
			break
		}
		bar := 0
		if top > 0 {
			bar = k.Count * 200 / top
		}
		out = append(out, shareRow{Key: k.Key, Label: label(k.Key), Count: k.Count, Share: percent(k.Count, total), Bar: bar})
	}
	return out
}

func (c *Console) categoryName(code string) string {
	if code == "" {
		return "（未分类）"
	}
	if n, ok := c.categories[code]; ok {
		return n
	}
	return code
}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request) {
	now := c.now().In(c.opts.Location)
	today := store.LocalDayStart(now, c.opts.Location)
	from, to := today.AddDate(0, 0, -(statDays-1)), today.AddDate(0, 0, 1)
	st, err := c.store.CaseStats(r.Context(), intake.StatsQuery{From: from, To: to, Today: today, Now: now})
	if err != nil {
		c.opts.Logger.Error("console: dashboard figures", "error", err.Error())
		c.fail(w, r, nil, http.StatusServiceUnavailable, "暂时无法读取统计数据，请稍后重试。")
		return
	}
	openIncidents, err := c.store.CountIncidents(r.Context(), intake.IncidentOpen)
	if err != nil {
		c.opts.Logger.Error("console: count incidents", "error", err.Error())
		c.fail(w, r, nil, http.StatusServiceUnavailable, "暂时无法读取统计数据，请稍后重试。")
		return
	}
	view := dashView{Stats: st, From: from.Format("2006-01-02"), To: today.Format("2006-01-02"), OpenIncidents: openIncidents}
	view.Chart = dayChart(st.Days, from)
	view.Channels = shares(st.Channels, func(k string) string { return nameOr(channelNames, intake.ChannelKind(k)) }, 0)
	view.TopCategories = shares(st.Categories, c.categoryName, 5)
	view.RequestTypes = shares(st.RequestTypes, func(k string) string { return nameOr(requestTypeNames, intake.RequestType(k)) }, 0)
	view.Satisfaction = shares(st.Satisfaction, func(k string) string { return nameOr(ratingNames, k) }, 0)
	answered, content := 0, 0
	for _, k := range st.Satisfaction {
		answered += k.Count
		if k.Key == "satisfied" || k.Key == "basically_satisfied" {
			content += k.Count
		}
	}
	view.SatisfactionRate = percent(content, answered)
	view.Notices = shares(st.Notices, func(k string) string { return nameOr(notificationStateNames, k) }, 0)
	sent, notices := 0, 0
	for _, k := range st.Notices {
		notices += k.Count
		if k.Key == "sent" || k.Key == "delivered" {
			sent += k.Count
		}
	}
	view.DeliveryRate = percent(sent, notices)
	c.render(w, r, http.StatusOK, "dashboard", viewerFrom(r.Context()), view)
}

// dayChart lays the daily counts out as stacked bars, one per day, one colour per channel.
func dayChart(days []intake.DayCount, from time.Time) chartView {
	const (
		barW, gap, height, top, bottom, left = 22, 6, 220, 10, 40, 36
	)
	type dayKey = string
	byDay := map[dayKey]map[intake.ChannelKind]int{}
	var order []dayKey
	totals := map[dayKey]int{}
	for _, d := range days {
		if byDay[d.Day] == nil {
			byDay[d.Day] = map[intake.ChannelKind]int{}
			order = append(order, d.Day)
		}
		byDay[d.Day][d.Channel] += d.Count
		totals[d.Day] += d.Count
	}
	slices.Sort(order)
	maxTotal := 1
	for _, n := range totals {
		maxTotal = max(maxTotal, n)
	}
	ch := chartView{Height: height + top + bottom, Max: maxTotal}
	allDays := dayRange(from, statDays)
	ch.Width = left + len(allDays)*(barW+gap)
	used := map[intake.ChannelKind]bool{}
	for i, day := range allDays {
		x := left + i*(barW+gap)
		y := top + height
		for ci, kind := range channelOrder {
			n := byDay[day][kind]
			if n == 0 {
				continue
			}
			used[kind] = true
			h := max(n*height/maxTotal, 1)
			y -= h
			ch.Bars = append(ch.Bars, barRect{X: x, Y: y, W: barW, H: h, Fill: channelColors[ci],
				Title: fmt.Sprintf("%s %s %d", day, nameOr(channelNames, kind), n)})
		}
		if i%5 == 0 || i == len(allDays)-1 {
			ch.Labels = append(ch.Labels, axisLabel{X: x, Y: top + height + 16, Text: day[5:]})
		}
	}
	for ci, kind := range channelOrder {
		if used[kind] {
			ch.Legend = append(ch.Legend, legendItem{Label: nameOr(channelNames, kind), Fill: channelColors[ci]})
		}
	}
	return ch
}

// dayRange lists n consecutive local days from the day of from, as YYYY-MM-DD.
func dayRange(from time.Time, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = from.AddDate(0, 0, i).Format("2006-01-02")
	}
	return out
}
