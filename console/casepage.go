package console

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
)

type timelineItem struct {
	At     time.Time
	Kind   string
	Title  string
	Detail string
}

type deliveryView struct {
	intake.Delivery
	StateName string
	History   []intake.DeliveryAttempt
}

type correctionView struct {
	intake.Correction
	CategoryName, AutoCategoryName, RequestTypeName, AutoRequestTypeName, EmergencyName, AutoEmergencyName string
}

type caseView struct {
	Case     *intake.Case
	Revealed bool
	// Personal data, masked unless Revealed.
	Name, Phone, OpenID, WeiboUID, Address, Text, Coordinates string
	Channel, Status, RequestType, Category, Emergency         string
	Timeline                                                  []timelineItem
	Deliveries                                                []deliveryView
	Corrections                                               []correctionView
	// The correction form's choices.
	CategoryChoices, RequestTypeChoices, EmergencyChoices []option
	CanReveal, CanCorrect                                 bool
}

func (c *Console) casePage(w http.ResponseWriter, r *http.Request) {
	c.showCase(w, r, false)
}

// reveal shows a case with its personal data, once the reveal is in the audit log: when the
// entry cannot be written, nothing is shown.
func (c *Console) reveal(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	k, ok := c.loadCase(w, r)
	if !ok {
		return
	}
	if err := c.store.AppendAudit(r.Context(), c.audit(r, v.user, intake.AuditReveal, "case:"+k.CaseNo, "")); err != nil {
		c.opts.Logger.Error("console: audit reveal", "error", err.Error())
		c.fail(w, r, v, http.StatusServiceUnavailable, "无法记录审计日志，个人信息未显示。")
		return
	}
	c.renderCase(w, r, k, true)
}

func (c *Console) showCase(w http.ResponseWriter, r *http.Request, revealed bool) {
	k, ok := c.loadCase(w, r)
	if !ok {
		return
	}
	c.renderCase(w, r, k, revealed)
}

func (c *Console) loadCase(w http.ResponseWriter, r *http.Request) (*intake.Case, bool) {
	ref := r.PathValue("ref")
	if ref == "" || len(ref) > 64 {
		c.fail(w, r, nil, http.StatusNotFound, "工单不存在。")
		return nil, false
	}
	k, err := c.store.GetCase(r.Context(), ref)
	if errors.Is(err, intake.ErrNotFound) {
		c.fail(w, r, nil, http.StatusNotFound, "工单不存在。")
		return nil, false
	}
	if err != nil {
		c.opts.Logger.Error("console: read case", "error", err.Error())
		c.fail(w, r, nil, http.StatusServiceUnavailable, "暂时无法读取工单，请稍后重试。")
		return nil, false
	}
	return k, true
}

func (c *Console) renderCase(w http.ResponseWriter, r *http.Request, k *intake.Case, revealed bool) {
	ctx := r.Context()
	v := viewerFrom(ctx)
	deliveries, err := c.store.Deliveries(ctx, k.ID)
	if err != nil {
		c.fail(w, r, v, http.StatusServiceUnavailable, "暂时无法读取转办记录，请稍后重试。")
		return
	}
	notes, err := c.store.CaseNotifications(ctx, k.ID)
	if err != nil {
		c.fail(w, r, v, http.StatusServiceUnavailable, "暂时无法读取通知记录，请稍后重试。")
		return
	}
	corrections, err := c.store.Corrections(ctx, k.ID)
	if err != nil {
		c.fail(w, r, v, http.StatusServiceUnavailable, "暂时无法读取更正记录，请稍后重试。")
		return
	}
	view := caseView{
		Case: k, Revealed: revealed,
		Channel: nameOr(channelNames, k.Channel), Status: nameOr(statusNames, k.Status),
		RequestType: nameOr(requestTypeNames, k.Classification.RequestType), Category: c.categoryName(k.Classification.Category),
		CanReveal: v.user.Role.AtLeast(intake.RoleOperator), CanCorrect: v.user.Role.AtLeast(intake.RoleOperator),
	}
	if k.Emergency != nil {
		view.Emergency = nameOr(emergencyNames, k.Emergency.Kind)
	}
	ci := k.Citizen
	if revealed {
		view.Name, view.Phone, view.OpenID, view.WeiboUID, view.Text = ci.Name, ci.Phone, ci.WeChatOpenID, ci.WeiboUID, k.Content.Text
		if view.Phone == "" {
			view.Phone = ci.PhoneRaw
		}
		if k.Location != nil {
			view.Address = k.Location.Address
			if k.Location.Lat != nil && k.Location.Lng != nil {
				view.Coordinates = fmt.Sprintf("%.6f, %.6f", *k.Location.Lat, *k.Location.Lng)
			}
		}
	} else {
		view.Name, view.OpenID, view.WeiboUID, view.Text = maskName(ci.Name), maskID(ci.WeChatOpenID), maskID(ci.WeiboUID), maskText(k.Content.Text)
		view.Phone = maskPhoneOf(ci.Phone)
		if view.Phone == "" && ci.PhoneRaw != "" {
			view.Phone = maskText(ci.PhoneRaw)
		}
		if k.Location != nil {
			view.Address = maskAddress(k.Location.Address)
			if k.Location.Lat != nil {
				view.Coordinates = "***"
			}
		}
	}
	view.Timeline = c.timeline(k, deliveries, notes, corrections, revealed)
	for _, d := range deliveries {
		dv := deliveryView{Delivery: d, StateName: nameOr(deliveryStateNames, d.State)}
		if d.Attempts > 0 {
			if dv.History, err = c.store.DeliveryAttempts(ctx, d.ID); err != nil {
				c.fail(w, r, v, http.StatusServiceUnavailable, "暂时无法读取转办记录，请稍后重试。")
				return
			}
		}
		view.Deliveries = append(view.Deliveries, dv)
	}
	for _, corr := range corrections {
		view.Corrections = append(view.Corrections, correctionView{Correction: corr,
			CategoryName: c.categoryName(corr.Category), AutoCategoryName: c.categoryName(corr.AutoCategory),
			RequestTypeName: nameOr(requestTypeNames, corr.RequestType), AutoRequestTypeName: nameOr(requestTypeNames, corr.AutoRequestType),
			EmergencyName: emergencyLabel(corr.Emergency), AutoEmergencyName: emergencyLabel(corr.AutoEmergency)})
	}
	view.CategoryChoices = c.categoryOptions(k.Classification.Category, "")
	view.RequestTypeChoices = options([]intake.RequestType{intake.RequestConsult, intake.RequestHelp, intake.RequestComplaint, intake.RequestReport, intake.RequestSuggestion, intake.RequestPraise, intake.RequestOther}, requestTypeNames, string(k.Classification.RequestType), "")[1:]
	emergency := ""
	if k.Emergency != nil {
		emergency = string(k.Emergency.Kind)
	}
	view.EmergencyChoices = options([]intake.EmergencyKind{intake.EmergencyPolice, intake.EmergencyFire, intake.EmergencyMedical, intake.EmergencyTraffic}, emergencyNames, emergency, "非紧急")
	c.render(w, r, http.StatusOK, "case", v, view)
}

func emergencyLabel(k intake.EmergencyKind) string {
	if k == "" {
		return "非紧急"
	}
	return nameOr(emergencyNames, k)
}

// timeline puts everything that happened to a case in the order it happened.
func (c *Console) timeline(k *intake.Case, deliveries []intake.Delivery, notes []intake.Notification, corrections []intake.Correction, revealed bool) []timelineItem {
	text := func(s string) string {
		if revealed {
			return s
		}
		return maskText(s)
	}
	items := []timelineItem{{At: k.ReceivedAt, Kind: "submission", Title: "市民提交（" + nameOr(channelNames, k.Channel) + "）",
		Detail: fmt.Sprintf("外部编号 %s，%d 字", k.ExternalID, utf8.RuneCountInString(k.Content.Text))}}
	cl := k.Classification
	evidence := strings.Join(cl.MatchedTerms, "、")
	if len(cl.ModelTerms) > 0 {
		evidence = strings.TrimPrefix(evidence+"；模型："+strings.Join(cl.ModelTerms, "、"), "；")
	}
	auto := fmt.Sprintf("%s / %s，置信度 %.2f", c.categoryName(cl.Category), nameOr(requestTypeNames, cl.RequestType), cl.Confidence)
	if cl.Source == "operator" {
		auto = fmt.Sprintf("%s / %s（系统原判，后经人工更正）", c.categoryName(cl.AutoCategory), nameOr(requestTypeNames, cl.AutoRequestType))
	}
	if evidence != "" {
		auto += "；依据：" + evidence
	}
	if cl.OutOfScope {
		auto += "；非受理范围，建议转 " + cl.Referral
	}
	if cl.NeedsReview {
		auto += "；需人工复核"
	}
	items = append(items, timelineItem{At: k.ReceivedAt, Kind: "classification", Title: "自动分类", Detail: auto})
	for _, h := range k.StatusHistory {
		detail := strings.TrimSpace(strings.Join([]string{h.Department, text(h.Message)}, " "))
		items = append(items, timelineItem{At: h.At, Kind: "status", Title: nameOr(eventNames, h.Event) + "（" + h.Source + "）", Detail: detail})
	}
	for _, d := range deliveries {
		items = append(items, timelineItem{At: d.CreatedAt, Kind: "delivery", Title: "转办 " + d.Event + " → " + d.Target,
			Detail: fmt.Sprintf("%s，尝试 %d 次 %s", nameOr(deliveryStateNames, d.State), d.Attempts, d.LastError)})
	}
	for _, n := range notes {
		items = append(items, timelineItem{At: n.CreatedAt, Kind: "notification", Title: "通知市民（" + nameOr(channelNames, n.Channel) + "）",
			Detail: nameOr(notificationStateNames, string(n.State)) + " " + n.Reason})
	}
	for _, corr := range corrections {
		items = append(items, timelineItem{At: corr.At, Kind: "correction", Title: "人工更正分类（" + corr.Actor + "）",
			Detail: fmt.Sprintf("%s / %s → %s / %s %s", c.categoryName(corr.AutoCategory), nameOr(requestTypeNames, corr.AutoRequestType),
				c.categoryName(corr.Category), nameOr(requestTypeNames, corr.RequestType), corr.Note)})
	}
	slices.SortStableFunc(items, func(a, b timelineItem) int { return a.At.Compare(b.At) })
	return items
}

// correct applies an operator's correction of a case's classification.
func (c *Console) correct(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	k, ok := c.loadCase(w, r)
	if !ok {
		return
	}
	corr := intake.Correction{
		Actor:       v.user.Name,
		Category:    strings.TrimSpace(r.PostFormValue("category")),
		RequestType: intake.RequestType(r.PostFormValue("request_type")),
		Emergency:   intake.EmergencyKind(r.PostFormValue("emergency")),
		OutOfScope:  r.PostFormValue("out_of_scope") == "1",
		Note:        strings.TrimSpace(r.PostFormValue("note")),
	}
	var problems []string
	if name, known := c.categories[corr.Category]; known {
		corr.CategoryName = name
	} else if corr.Category != k.Classification.Category || corr.Category == "" {
		problems = append(problems, "未知的分类："+corr.Category)
	}
	if !corr.RequestType.Valid() {
		problems = append(problems, "未知的诉求类型："+string(corr.RequestType))
	}
	if _, known := emergencyNames[corr.Emergency]; corr.Emergency != "" && !known {
		problems = append(problems, "未知的紧急类型："+string(corr.Emergency))
	}
	if utf8.RuneCountInString(corr.Note) > 500 {
		problems = append(problems, "备注最多 500 字")
	}
	if len(problems) > 0 {
		c.fail(w, r, v, http.StatusBadRequest, "更正内容有误，未保存。", problems...)
		return
	}
	detail := fmt.Sprintf("category %s→%s, request_type %s→%s", k.Classification.Category, corr.Category, k.Classification.RequestType, corr.RequestType)
	_, err := c.store.CorrectClassification(r.Context(), k.ID, corr, c.audit(r, v.user, intake.AuditCorrection, "case:"+k.CaseNo, detail))
	if errors.Is(err, intake.ErrInvalid) {
		c.fail(w, r, v, http.StatusBadRequest, "更正内容有误，未保存。", err.Error())
		return
	}
	if err != nil {
		c.opts.Logger.Error("console: correct classification", "error", err.Error())
		c.fail(w, r, v, http.StatusServiceUnavailable, "暂时无法保存更正，请稍后重试。")
		return
	}
	http.Redirect(w, r, "/console/cases/"+k.CaseNo, http.StatusSeeOther)
}
