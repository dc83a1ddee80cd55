package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
)

type option struct {
	Value, Label string
	Selected     bool
}

type caseRow struct {
	CaseNo      string
	Received    time.Time
	Channel     string
	Category    string
	RequestType string
	Status      string
	Urgent      bool
	Emergency   bool
	NeedsReview bool
	Citizen     string
	Address     string
	Excerpt     string
}

type casesView struct {
	Channels, Categories, RequestTypes, Statuses, Priorities []option
	District, From, To, Text                                 string
	Review                                                   bool
	Rows                                                     []caseRow
	NextURL                                                  string
}

const excerptRunes = 60

// citizenSummary is how a list shows who sent a case: every identifier masked.
func citizenSummary(ci intake.Citizen) string {
	var parts []string
	if ci.Name != "" {
		parts = append(parts, maskName(ci.Name))
	}
	switch {
	case ci.Phone != "":
		parts = append(parts, maskPhoneOf(ci.Phone))
	case ci.PhoneRaw != "":
		parts = append(parts, maskText(ci.PhoneRaw))
	}
	if ci.WeChatOpenID != "" {
		parts = append(parts, "微信 "+maskID(ci.WeChatOpenID))
	}
	if ci.WeiboUID != "" {
		parts = append(parts, "微博 "+maskID(ci.WeiboUID))
	}
	if ci.Anonymous {
		parts = append(parts, "匿名")
	}
	return strings.Join(parts, " · ")
}

func excerpt(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) > excerptRunes {
		text = string([]rune(text)[:excerptRunes]) + "…"
	}
	return maskText(text)
}

func options[K ~string](values []K, names map[K]string, selected string, blank string) []option {
	out := []option{{Value: "", Label: blank, Selected: selected == ""}}
	for _, v := range values {
		out = append(out, option{Value: string(v), Label: nameOr(names, v), Selected: string(v) == selected})
	}
	return out
}

// parseSearch reads the list's filters; every problem is named.
func (c *Console) parseSearch(q url.Values) (intake.CaseSearch, []string) {
	var (
		s        intake.CaseSearch
		problems []string
	)
	if v := q.Get("channel"); v != "" {
		if _, ok := channelNames[intake.ChannelKind(v)]; !ok {
			problems = append(problems, "未知的渠道："+v)
		}
		s.Channel = intake.ChannelKind(v)
	}
	if v := q.Get("status"); v != "" {
		if !intake.Status(v).Valid() {
			problems = append(problems, "未知的状态："+v)
		}
		s.Status = intake.Status(v)
	}
	if v := q.Get("request_type"); v != "" {
		if !intake.RequestType(v).Valid() {
			problems = append(problems, "未知的诉求类型："+v)
		}
		s.RequestType = intake.RequestType(v)
	}
	if v := q.Get("priority"); v != "" {
		if v != string(intake.PriorityNormal) && v != string(intake.PriorityUrgent) {
			problems = append(problems, "未知的优先级："+v)
		}
		s.Priority = intake.Priority(v)
	}
	if v := q.Get("category"); v != "" {
		if _, ok := c.categories[v]; !ok && len(c.categories) > 0 || len(v) > 64 {
			problems = append(problems, "未知的分类："+v)
		}
		s.Category = v
	}
	s.District = strings.TrimSpace(q.Get("district"))
	if utf8.RuneCountInString(s.District) > 100 {
		problems = append(problems, "区县名称过长")
	}
	s.Text = strings.TrimSpace(q.Get("q"))
	if utf8.RuneCountInString(s.Text) > 100 {
		problems = append(problems, "搜索内容过长（最多 100 字）")
	}
	for _, d := range []struct {
		key  string
		dst  *time.Time
		next int
	}{{"from", &s.ReceivedFrom, 0}, {"to", &s.ReceivedTo, 1}} {
		v := q.Get(d.key)
		if v == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02", v, c.opts.Location)
		if err != nil {
			problems = append(problems, "日期格式应为 YYYY-MM-DD："+v)
			continue
		}
		*d.dst = t.AddDate(0, 0, d.next)
	}
	s.NeedsReview = q.Get("review") == "1"
	s.Cursor = q.Get("cursor")
	s.Limit = 50
	for _, p := range []string{"channel", "status", "request_type", "priority", "category", "district", "q", "from", "to", "review", "cursor"} {
		if len(q[p]) > 1 {
			problems = append(problems, "参数重复："+p)
		}
	}
	return s, problems
}

func (c *Console) casesPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	search, problems := c.parseSearch(q)
	if len(problems) > 0 {
		c.fail(w, r, nil, http.StatusBadRequest, "筛选条件有误。", problems...)
		return
	}
	page, err := c.store.SearchCases(r.Context(), search)
	if errors.Is(err, intake.ErrInvalid) {
		c.fail(w, r, nil, http.StatusBadRequest, "翻页参数无效，请从第一页重新查询。")
		return
	}
	if err != nil {
		c.opts.Logger.Error("console: search cases", "error", err.Error())
		c.fail(w, r, nil, http.StatusServiceUnavailable, "暂时无法读取工单，请稍后重试。")
		return
	}
	view := casesView{
		Channels:     options(channelOrder, channelNames, q.Get("channel"), "全部渠道"),
		RequestTypes: options([]intake.RequestType{intake.RequestConsult, intake.RequestHelp, intake.RequestComplaint, intake.RequestReport, intake.RequestSuggestion, intake.RequestPraise, intake.RequestOther}, requestTypeNames, q.Get("request_type"), "全部类型"),
		Statuses:     options(intake.Statuses(), statusNames, q.Get("status"), "全部状态"),
		Priorities:   options([]intake.Priority{intake.PriorityNormal, intake.PriorityUrgent}, map[intake.Priority]string{intake.PriorityNormal: "普通", intake.PriorityUrgent: "紧急"}, q.Get("priority"), "全部"),
		Categories:   c.categoryOptions(q.Get("category"), "全部分类"),
		District:     search.District, From: q.Get("from"), To: q.Get("to"), Text: search.Text, Review: search.NeedsReview,
	}
	for _, k := range page.Cases {
		row := caseRow{
			CaseNo: k.CaseNo, Received: k.ReceivedAt, Channel: nameOr(channelNames, k.Channel),
			Category: c.categoryName(k.Classification.Category), RequestType: nameOr(requestTypeNames, k.Classification.RequestType),
			Status: nameOr(statusNames, k.Status), Urgent: k.Priority == intake.PriorityUrgent, Emergency: k.Emergency != nil,
			NeedsReview: k.Classification.NeedsReview, Citizen: citizenSummary(k.Citizen), Excerpt: excerpt(k.Content.Text),
		}
		if k.Location != nil {
			row.Address = maskAddress(k.Location.Address)
		}
		view.Rows = append(view.Rows, row)
	}
	if page.NextCursor != "" {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("cursor", page.NextCursor)
		view.NextURL = "/console/cases?" + next.Encode()
	}
	c.render(w, r, http.StatusOK, "cases", viewerFrom(r.Context()), view)
}

func (c *Console) categoryOptions(selected, blank string) []option {
	out := []option{}
	if blank != "" {
		out = append(out, option{Value: "", Label: blank, Selected: selected == ""})
	}
	cats := slices.Clone(c.opts.Categories)
	found := selected == ""
	for _, cat := range cats {
		out = append(out, option{Value: cat.Code, Label: cat.Name + "（" + cat.Code + "）", Selected: cat.Code == selected})
		found = found || cat.Code == selected
	}
	if !found {
		// A code the taxonomy no longer has (a case classified under an older one) stays choosable.
		out = append(out, option{Value: selected, Label: selected, Selected: true})
	}
	return out
}

// maskPhoneOf masks a stored (E.164) number.
func maskPhoneOf(phone string) string { return maskText(strings.TrimPrefix(phone, "+86")) }
