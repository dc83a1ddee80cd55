package open311

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/api"
)

// post files a service request: POST requests.{fmt}.
func (h *Handler) post(w http.ResponseWriter, r *http.Request, f Format) error {
	body, err := h.readForm(r)
	if err != nil {
		return err
	}
	req, fields := ParseForm(body)
	if Unreadable(fields) {
		return badFields(fields)
	}
	// The key is checked before anything else is reported, so that a client without a valid
	// key learns nothing about what the endpoint would accept.
	if req.APIKey == "" {
		return refuse(http.StatusForbidden, "api_key: is required")
	}
	p, ok := h.deps.Keys.Lookup(req.APIKey)
	if !ok {
		return refuse(http.StatusForbidden, "api_key: is not valid")
	}
	if !p.Has(api.ScopeSubmit) {
		return refuse(http.StatusForbidden, "api_key: may not submit requests")
	}
	if ok, retry := h.deps.Keys.Admit(p.Name); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(retry.Seconds())))))
		return refuse(http.StatusTooManyRequests, "api_key: exceeds its request rate; retry later")
	}
	if len(fields) > 0 {
		return badFields(fields)
	}
	if req.JurisdictionID != "" && h.opts.Jurisdiction != "" && req.JurisdictionID != h.opts.Jurisdiction {
		return refuse(http.StatusNotFound, "jurisdiction_id: unknown jurisdiction")
	}
	svc, ok := h.services[req.ServiceCode]
	if !ok {
		return refuse(http.StatusBadRequest, "service_code: unknown service "+strconv.Quote(req.ServiceCode))
	}
	if fields := checkAttributes(svc, req); len(fields) > 0 {
		return badFields(fields)
	}

	now := h.deps.Clock.Now()
	sub := h.submission(p, svc, req, body, now)
	if c, err := h.recentDuplicate(r, sub, now); err != nil || c != nil {
		if err != nil {
			return err
		}
		return h.created(w, f, c, req)
	}
	receipt, err := h.deps.Submitter.Submit(r.Context(), sub)
	if err != nil {
		var ve *intake.ValidationError
		if errors.As(err, &ve) {
			return badFields(ve.Fields)
		}
		return fmt.Errorf("submit open311 request: %w", err)
	}
	return h.created(w, f, receipt.Case, req)
}

func (h *Handler) created(w http.ResponseWriter, f Format, c *intake.Case, req Request) error {
	out := createdJSON{ServiceRequestID: c.CaseNo, ServiceNotice: h.notice(c), AccountID: req.AccountID}
	return write(w, f, http.StatusOK, []createdJSON{out}, xmlCreated{Requests: []createdJSON{out}})
}

// notice renders the service_notice: the case number, query code and expected reply date, in
// the citizen's language, from the messages file.
func (h *Handler) notice(c *intake.Case) string {
	texts := h.texts()
	if texts == nil || !texts.Has(NoticeText) {
		return ""
	}
	s, err := texts.Render(NoticeText, texts.CaseData(c, h.opts.Location))
	if err != nil {
		h.deps.Logger.Warn("open311 notice", "error", err.Error())
		return ""
	}
	return s
}

// checkAttributes checks the attributes against the service's definition: every required one
// given, values of their datatype, list values among the defined keys, one value unless the
// list takes several. Attributes the definition does not name are kept as they came (clients
// such as FixMyStreet send their own, e.g. the report's URL).
func checkAttributes(svc *Service, req Request) []intake.FieldError {
	var errs []intake.FieldError
	add := func(code, reason string) {
		errs = append(errs, intake.FieldError{Field: "attribute[" + code + "]", Reason: reason})
	}
	for _, a := range svc.Attributes {
		vs := req.Attributes[a.Code]
		nonEmpty := slices.ContainsFunc(vs, func(v string) bool { return strings.TrimSpace(v) != "" })
		if !nonEmpty {
			if a.Required {
				add(a.Code, "is required for service "+svc.Code)
			}
			continue
		}
		if a.Datatype != TypeMultiValueList && len(vs) > 1 {
			add(a.Code, "takes one value")
			continue
		}
		for _, v := range vs {
			v = strings.TrimSpace(v)
			switch a.Datatype {
			case TypeNumber:
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					add(a.Code, "must be a number")
				}
			case TypeDatetime:
				if _, err := time.Parse(time.RFC3339, v); err != nil {
					add(a.Code, "must be a date and time with its zone, e.g. 2026-12-05T09:30:00+08:00")
				}
			case TypeSingleValueList, TypeMultiValueList:
				if !slices.ContainsFunc(a.Values, func(x Value) bool { return x.Key == v }) {
					add(a.Code, fmt.Sprintf("%q is not one of its values", v))
				}
			}
		}
	}
	return errs
}

// submission maps the request to the channel-neutral submission. The external id names the
// duplicate key and the window it falls in, so that copies of one request racing each other
// make one case (the store's unique key), and the payload hash is that key, so a copy is a
// retry and never a conflict.
func (h *Handler) submission(p api.Principal, svc *Service, req Request, body []byte, now time.Time) intake.Submission {
	text := strings.TrimSpace(req.Description)
	if text == "" {
		// The spec makes the description optional; a case needs text, and the service the
		// client chose is what it is about.
		text = svc.Name
	}
	sub := intake.Submission{
		Channel:          intake.ChannelOpen311,
		ChannelID:        channelIDPrefix + p.Name,
		Text:             text,
		Citizen:          intake.CitizenInput{Name: fullName(req.FirstName, req.LastName), Phone: req.Phone},
		OperatorCategory: svc.Code,
		Raw:              intake.RawPayload{ContentType: "application/x-www-form-urlencoded", Body: withoutAPIKey(body)},
		Metadata:         map[string]string{"open311_service_code": svc.Code},
	}
	if req.Lat != nil || req.AddressString != "" {
		sub.Location = &intake.Location{Lat: req.Lat, Lng: req.Long, Address: req.AddressString}
		if req.Lat != nil {
			sub.Location.Source = intake.LocationGPS
		} else {
			sub.Location.Source = intake.LocationText
		}
	}
	if req.MediaURL != "" {
		sub.Attachments = []intake.Attachment{{Kind: intake.AttachmentLink, URL: req.MediaURL}}
	}
	for k, v := range map[string]string{
		"open311_jurisdiction_id": req.JurisdictionID, "open311_address_id": req.AddressID, "open311_email": req.Email,
		"open311_device_id": req.DeviceID, "open311_account_id": req.AccountID,
	} {
		if v != "" {
			sub.Metadata[k] = v
		}
	}
	for code, vs := range req.Attributes {
		sub.Metadata["open311_attribute."+code] = strings.Join(vs, ",")
	}
	key := duplicateKey(p.Name, req)
	sub.PayloadHash = key
	sub.ExternalID = externalID(key, now, h.opts.DuplicateWindow)
	return sub
}

// duplicateKey identifies "the same request" for the duplicate window: the same client, the same
// description and the same location.
func duplicateKey(client string, req Request) string {
	var b strings.Builder
	for _, part := range []string{client, strings.TrimSpace(req.Description), coord(req.Lat), coord(req.Long), req.AddressString, req.AddressID} {
		b.WriteString(strconv.Itoa(len(part)))
		b.WriteByte(':')
		b.WriteString(part)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

func coord(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// externalID is the key within the window of length w that now falls in.
func externalID(key string, now time.Time, w time.Duration) string {
	return fmt.Sprintf("dup:%s:%d", key, now.UnixNano()/int64(w))
}

// recentDuplicate finds the case a copy of this request made in the previous window, when it
// is younger than the window: a copy in the current window is found by Submit itself.
func (h *Handler) recentDuplicate(r *http.Request, sub intake.Submission, now time.Time) (*intake.Case, error) {
	prev := externalID(sub.PayloadHash, now.Add(-h.opts.DuplicateWindow), h.opts.DuplicateWindow)
	mc, err := h.deps.Store.MessageContext(r.Context(), intake.MessageQuery{ChannelID: sub.ChannelID, ExternalID: prev})
	if err != nil {
		return nil, fmt.Errorf("look for a duplicate: %w", err)
	}
	if !mc.Handled || mc.Kind != intake.MessageCase {
		return nil, nil
	}
	c, err := h.deps.Store.GetCase(r.Context(), mc.CaseID)
	if err != nil {
		return nil, fmt.Errorf("read the duplicate: %w", err)
	}
	if c.ReceivedAt.Before(now.Add(-h.opts.DuplicateWindow)) {
		return nil, nil
	}
	return c, nil
}

// fullName joins the names in the order their script writes them: family name first without a
// space for Chinese, given name first otherwise.
func fullName(first, last string) string {
	switch {
	case first == "":
		return last
	case last == "":
		return first
	case hasHan(first) || hasHan(last):
		return last + first
	}
	return first + " " + last
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// channelIDPrefix names an API client's Open311 requests: "open311:<key name>".
const channelIDPrefix = "open311:"
