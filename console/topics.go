package console

import (
	"net/http"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// topicMembers bounds the member cases listed under each incident; the incident's size says
// how many there are in all.
const topicMembers = 20

// topicsListed bounds the incidents one page lists, the most recently active first.
const topicsListed = 50

type topicRow struct {
	ID           string
	Summary      string
	Category     string
	District     string
	Size         int
	FirstSeen    time.Time
	LastSeen     time.Time
	ClosedAt     time.Time
	Announcement string
	AnnounceErr  string
	Members      []caseRow
	More         int
}

type topicsView struct {
	States []option
	Closed bool
	Rows   []topicRow
}

var incidentStateNames = map[intake.IncidentState]string{intake.IncidentOpen: "进行中", intake.IncidentClosed: "已结束"}

// topicsPage lists the hot-topic incidents (open ones by default, ?state=closed for the ended
// ones) with their member cases, masked as every list is.
func (c *Console) topicsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := intake.IncidentState(q.Get("state"))
	switch {
	case len(q["state"]) > 1:
		c.fail(w, r, nil, http.StatusBadRequest, "参数重复：state")
		return
	case state == "":
		state = intake.IncidentOpen
	case state != intake.IncidentOpen && state != intake.IncidentClosed:
		c.fail(w, r, nil, http.StatusBadRequest, "未知的热点状态："+string(state))
		return
	}
	incidents, err := c.store.ListIncidents(r.Context(), intake.IncidentFilter{State: state, Limit: topicsListed})
	if err != nil {
		c.opts.Logger.Error("console: list incidents", "error", err.Error())
		c.fail(w, r, nil, http.StatusServiceUnavailable, "暂时无法读取热点，请稍后重试。")
		return
	}
	view := topicsView{Closed: state == intake.IncidentClosed,
		States: options([]intake.IncidentState{intake.IncidentOpen, intake.IncidentClosed}, incidentStateNames, string(state), "")[1:]}
	for _, in := range incidents {
		members, err := c.store.IncidentCases(r.Context(), in.ID, topicMembers)
		if err != nil {
			c.opts.Logger.Error("console: incident cases", "incident_id", in.ID, "error", err.Error())
			c.fail(w, r, nil, http.StatusServiceUnavailable, "暂时无法读取热点，请稍后重试。")
			return
		}
		row := topicRow{ID: in.ID, Summary: in.Summary, Category: c.categoryName(in.Category), District: in.District,
			Size: in.Size, FirstSeen: in.FirstSeen, LastSeen: in.LastSeen, ClosedAt: in.ClosedAt,
			AnnounceErr: in.AnnounceError, More: max(in.Size-len(members), 0)}
		switch in.Announcement {
		case "":
			row.Announcement = "未配置通知"
		default:
			row.Announcement = nameOr(deliveryStateNames, in.Announcement)
		}
		for _, k := range members {
			row.Members = append(row.Members, caseRow{
				CaseNo: k.CaseNo, Received: k.ReceivedAt, Channel: nameOr(channelNames, k.Channel),
				Status: nameOr(statusNames, k.Status), Citizen: citizenSummary(k.Citizen), Excerpt: excerpt(k.Content.Text),
			})
		}
		view.Rows = append(view.Rows, row)
	}
	c.render(w, r, http.StatusOK, "topics", viewerFrom(r.Context()), view)
}
