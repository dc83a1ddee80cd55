package open311

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// Open311 has two statuses; the gateway's statuses fold into them.
const (
	statusOpen   = "open"
	statusClosed = "closed"
)

var closedStatuses = []intake.Status{intake.StatusResolved, intake.StatusClosed, intake.StatusRejected}

func openOrClosed(s intake.Status) string {
	if slices.Contains(closedStatuses, s) {
		return statusClosed
	}
	return statusOpen
}

// maxIDs bounds the service_request_id list of one GET requests.
const maxIDs = 200

// list answers GET requests.{fmt}: service_request_id (a comma list, which overrides every other
// filter), service_code, start_date/end_date (at most the range, which is also the default
// period ending now) and status (open, closed or both), newest first, at most 1,000.
// reader is the channel id whose requests a read may show: the requests the api_key in the
// query filed, or (empty) every Open311 request when reads are public.
func (h *Handler) reader(w http.ResponseWriter, q url.Values) (string, error) {
	if h.opts.PublicReads {
		return "", nil
	}
	key := q.Get("api_key")
	if key == "" {
		return "", refuse(http.StatusForbidden, "api_key: is required to read requests")
	}
	p, ok := h.deps.Keys.Lookup(key)
	if !ok {
		return "", refuse(http.StatusForbidden, "api_key: is not valid")
	}
	if ok, retry := h.deps.Keys.Admit(p.Name); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(retry.Seconds())))))
		return "", refuse(http.StatusTooManyRequests, "api_key: exceeds its request rate; retry later")
	}
	return channelIDPrefix + p.Name, nil
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request, f Format, q url.Values) error {
	owner, err := h.reader(w, q)
	if err != nil {
		return err
	}
	// status may be given several times as well as comma-separated (the spec allows both).
	if err := single(q, "service_request_id", "service_code", "start_date", "end_date"); err != nil {
		return err
	}
	search := intake.RequestSearch{Channel: intake.ChannelOpen311, ChannelID: owner, Limit: intake.SearchLimit}
	if ids := q.Get("service_request_id"); ids != "" {
		search.CaseNos = []string{}
		for _, id := range strings.Split(ids, ",") {
			if id = strings.TrimSpace(id); id != "" {
				search.CaseNos = append(search.CaseNos, id)
			}
		}
		if len(search.CaseNos) > maxIDs {
			return refuse(http.StatusBadRequest, fmt.Sprintf("service_request_id: at most %d ids", maxIDs))
		}
	} else {
		from, to, err := h.period(q)
		if err != nil {
			return err
		}
		search.ReceivedFrom, search.ReceivedTo = from, to
		search.Category = q.Get("service_code")
		if st := strings.Join(q["status"], ","); st != "" {
			wantOpen, wantClosed := false, false
			for _, s := range strings.Split(st, ",") {
				switch strings.TrimSpace(s) {
				case "":
				case statusOpen:
					wantOpen = true
				case statusClosed:
					wantClosed = true
				default:
					return refuse(http.StatusBadRequest, "status: must be open, closed or both, comma-separated")
				}
			}
			switch {
			case wantOpen && !wantClosed:
				search.Statuses = openStatuses()
			case wantClosed && !wantOpen:
				search.Statuses = closedStatuses
			}
		}
	}
	cases, err := h.deps.Store.SearchRequests(r.Context(), search)
	if err != nil {
		return fmt.Errorf("search open311 requests: %w", err)
	}
	out := make([]requestJSON, 0, len(cases))
	for _, c := range cases {
		out = append(out, h.request(c))
	}
	return write(w, f, http.StatusOK, out, xmlRequests{Requests: out})
}

func openStatuses() []intake.Status {
	var out []intake.Status
	for _, s := range intake.Statuses() {
		if !slices.Contains(closedStatuses, s) {
			out = append(out, s)
		}
	}
	return out
}

// single refuses a query that gives one of names twice: two readers could take different ones.
func single(q url.Values, names ...string) error {
	for _, n := range names {
		if len(q[n]) > 1 {
			return refuse(http.StatusBadRequest, n+": is given more than once")
		}
	}
	return nil
}

// period reads start_date and end_date: W3C timestamps with their zone. A missing end is now
// (or start plus the range), a missing start is the end less the range; a longer period is
// refused.
func (h *Handler) period(q url.Values) (time.Time, time.Time, error) {
	var (
		from, to time.Time
		errs     []string
	)
	parse := func(name string) time.Time {
		v := q.Get(name)
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			// W3C date-times may leave out the seconds.
			t, err = time.Parse("2006-01-02T15:04Z07:00", v)
		}
		if err != nil {
			errs = append(errs, name+": must be a W3C date and time with its zone, e.g. 2026-12-01T00:00:00+08:00")
		}
		return t
	}
	from, to = parse("start_date"), parse("end_date")
	if len(errs) > 0 {
		return from, to, refuse(http.StatusBadRequest, errs...)
	}
	switch {
	case from.IsZero() && to.IsZero():
		to = h.deps.Clock.Now()
		from = to.Add(-h.opts.MaxRange)
	case to.IsZero():
		to = from.Add(h.opts.MaxRange)
	case from.IsZero():
		from = to.Add(-h.opts.MaxRange)
	}
	if to.Before(from) {
		return from, to, refuse(http.StatusBadRequest, "end_date: is before start_date")
	}
	if to.Sub(from) > h.opts.MaxRange {
		return from, to, refuse(http.StatusBadRequest, fmt.Sprintf("end_date: the period may span at most %d days", int(h.opts.MaxRange.Hours()/24)))
	}
	// end_date is inclusive in the spec; the store's bound is exclusive, and both stores keep
	// microseconds.
	return from, to.Add(time.Microsecond), nil
}

// one answers GET requests/{id}.{fmt}: the request as a list of one, like GET requests.
func (h *Handler) one(w http.ResponseWriter, r *http.Request, f Format, q url.Values, id string) error {
	owner, err := h.reader(w, q)
	if err != nil {
		return err
	}
	notFound := refuse(http.StatusNotFound, "service_request_id: no such request")
	if id == "" || len(id) > 64 || strings.ContainsAny(id, "/,") {
		return notFound
	}
	c, err := h.deps.Store.GetCase(r.Context(), id)
	if errors.Is(err, intake.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("read open311 request: %w", err)
	}
	// Only requests filed here, and only by their number: a case of another channel is not
	// this endpoint's to show, and its internal id is not a service_request_id.
	if c.Channel != intake.ChannelOpen311 || c.CaseNo != id || (owner != "" && c.ChannelID != owner) {
		return notFound
	}
	out := []requestJSON{h.request(c)}
	return write(w, f, http.StatusOK, out, xmlRequests{Requests: out})
}

// request is a case as the spec's request record.
func (h *Handler) request(c *intake.Case) requestJSON {
	out := requestJSON{
		ServiceRequestID:  c.CaseNo,
		Status:            openOrClosed(c.Status),
		ServiceCode:       c.Classification.Category,
		ServiceName:       c.Classification.CategoryName,
		Description:       c.Content.Text,
		RequestedDatetime: h.timestamp(c.ReceivedAt),
		UpdatedDatetime:   h.timestamp(c.ReceivedAt),
		AddressID:         c.Metadata["open311_address_id"],
	}
	if s, ok := h.services[c.Classification.Category]; ok {
		out.ServiceName = s.Name
	}
	if c.DueAt != nil {
		out.ExpectedDatetime = h.timestamp(*c.DueAt)
	}
	if l := c.Location; l != nil {
		out.Address, out.Lat, out.Long = l.Address, l.Lat, l.Lng
	}
	for _, a := range c.Attachments {
		if a.URL != "" {
			out.MediaURL = a.URL
			break
		}
	}
	var updated time.Time
	for _, e := range c.StatusHistory {
		if e.Event == intake.EventFeedback {
			// The citizen's satisfaction answer is theirs, not a note from the hotline.
			continue
		}
		if e.At.After(updated) {
			updated = e.At
		}
		if e.Message != "" {
			out.StatusNotes = e.Message
		}
		if e.Department != "" && (e.Status == intake.StatusAssigned || out.AgencyResponsible == "") {
			out.AgencyResponsible = e.Department
		}
	}
	if !updated.IsZero() {
		out.UpdatedDatetime = h.timestamp(updated)
	}
	return out
}

// Events that are not news to a client following its request: the request's own filing, its
// hand-over to the case system, and the citizen's satisfaction answer.
var quietEvents = []string{string(intake.StatusReceived), string(intake.StatusForwarded), intake.EventFeedback}

// updates answers mySociety's GET servicerequestupdates.{fmt}: the status changes of Open311
// requests recorded between start_date and end_date (default: the last day), oldest first.
func (h *Handler) updates(w http.ResponseWriter, r *http.Request, f Format, q url.Values) error {
	owner, err := h.reader(w, q)
	if err != nil {
		return err
	}
	if err := single(q, "start_date", "end_date"); err != nil {
		return err
	}
	if q.Get("start_date") == "" && q.Get("end_date") == "" {
		q = url.Values{"start_date": {h.deps.Clock.Now().Add(-24 * time.Hour).Format(time.RFC3339)}}
	}
	from, to, err := h.period(q)
	if err != nil {
		return err
	}
	ups, err := h.deps.Store.StatusUpdates(r.Context(), intake.UpdateQuery{
		Channel: intake.ChannelOpen311, ChannelID: owner, RecordedFrom: from, RecordedTo: to, ExcludeEvents: quietEvents,
	})
	if err != nil {
		return fmt.Errorf("read open311 updates: %w", err)
	}
	texts := h.texts()
	out := make([]updateJSON, 0, len(ups))
	for _, u := range ups {
		desc := u.Change.Message
		if desc == "" && texts != nil {
			desc = texts.StatusName(u.Change.Status)
		}
		out = append(out, updateJSON{
			UpdateID: u.ID, ServiceRequestID: u.CaseNo, Status: extendedStatus(u.Change),
			UpdatedDatetime: h.timestamp(u.Change.At), Description: desc, ExternalStatus: u.Change.Event,
		})
	}
	return write(w, f, http.StatusOK, out, xmlUpdates{Updates: out})
}

// extendedStatus names a status change in mySociety's extended statuses, which FixMyStreet
// shows its users.
func extendedStatus(ch intake.StatusChange) string {
	switch ch.Event {
	case "reopened":
		return "reopen"
	case "rejected":
		return "not_councils_responsibility"
	}
	switch ch.Status {
	case intake.StatusAccepted:
		return "investigating"
	case intake.StatusAssigned:
		return "in_progress"
	case intake.StatusResolved:
		return "fixed"
	case intake.StatusClosed:
		return "closed"
	case intake.StatusRejected:
		return "not_councils_responsibility"
	}
	return statusOpen
}
