package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/api/gen"
)

// ProblemContentType is RFC 9457's media type.
const ProblemContentType = "application/problem+json"

// problemTypeBase prefixes the type URI of every problem the gateway reports; the fragment names
// the problem, so clients can switch on it.
const problemTypeBase = "https://intake-gateway.invalid/problems#"

// ProblemError is an error that renders as a problem document.
type ProblemError struct {
	Status int
	Kind   string
	Title  string
	Detail string
	Fields []intake.FieldError
	// Header holds extra response headers (WWW-Authenticate, Retry-After).
	Header map[string]string
}

func (p *ProblemError) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

func problem(status int, kind, title, detail string) *ProblemError {
	return &ProblemError{Status: status, Kind: kind, Title: title, Detail: detail}
}

// Problem is the JSON body of a ProblemError.
func (p *ProblemError) Problem(requestID string) gen.Problem {
	out := gen.Problem{Type: problemTypeBase + p.Kind, Title: p.Title, Status: p.Status}
	if p.Detail != "" {
		out.Detail = &p.Detail
	}
	if requestID != "" {
		out.RequestId = &requestID
	}
	if len(p.Fields) > 0 {
		fields := make([]gen.FieldError, len(p.Fields))
		for i, f := range p.Fields {
			fields[i] = gen.FieldError{Field: f.Field, Reason: f.Reason}
		}
		out.Errors = &fields
	}
	return out
}

func writeProblem(c echo.Context, p *ProblemError) error {
	for k, v := range p.Header {
		c.Response().Header().Set(k, v)
	}
	body, err := json.Marshal(p.Problem(c.Response().Header().Get(echo.HeaderXRequestID)))
	if err != nil {
		return err
	}
	return c.Blob(p.Status, ProblemContentType, body)
}

// toProblem maps any error reaching the HTTP layer to a problem. Domain errors keep their
// meaning; anything unknown is a 500 without internals in the body.
func toProblem(err error) *ProblemError {
	var p *ProblemError
	if errors.As(err, &p) {
		return p
	}
	var ve *intake.ValidationError
	if errors.As(err, &ve) && ve.HasReason(intake.ReasonURLScheme) {
		// Well-formed, but a kind of link the gateway will not take at all: 422, so a client
		// can tell it from a malformed request. Every field problem is listed.
		return &ProblemError{Status: http.StatusUnprocessableEntity, Kind: "unsupported-url-scheme", Title: "URL scheme not accepted",
			Detail: "Attachment and recording URLs must be http or https URLs; see errors. Nothing was stored.", Fields: ve.Fields}
	}
	if errors.As(err, &ve) && ve.HasReason(intake.ReasonTimestampRange) {
		return &ProblemError{Status: http.StatusUnprocessableEntity, Kind: "timestamp-out-of-range", Title: "Timestamp out of range",
			Detail: "Timestamps must lie between 2000-01-01 and now; see errors for the field. Nothing was stored.", Fields: ve.Fields}
	}
	if errors.As(err, &ve) {
		return &ProblemError{Status: http.StatusBadRequest, Kind: "validation", Title: "Invalid submission",
			Detail: "The request failed validation; see errors.", Fields: ve.Fields}
	}
	var ce *intake.ConflictError
	if errors.As(err, &ce) {
		return problem(http.StatusConflict, "idempotency-conflict", "Idempotency-Key reused",
			"This Idempotency-Key was already used for a different request body (case "+ce.Existing.CaseNo+").")
	}
	switch {
	case errors.Is(err, intake.ErrNotFound):
		return problem(http.StatusNotFound, "not-found", "Not found", "No such case.")
	case errors.Is(err, intake.ErrInvalid):
		return problem(http.StatusBadRequest, "validation", "Invalid request", err.Error())
	case errors.Is(err, intake.ErrUnavailable), isTimeout(err):
		p := problem(http.StatusServiceUnavailable, "unavailable", "Store unavailable",
			"The case could not be stored right now; nothing was acknowledged. Retry later.")
		p.Header = map[string]string{"Retry-After": "2"}
		return p
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := http.StatusText(he.Code)
		if s, ok := he.Message.(string); ok {
			msg = s
		}
		return problem(he.Code, "http-"+fmt.Sprint(he.Code), http.StatusText(he.Code), msg)
	}
	return problem(http.StatusInternalServerError, "internal", "Internal error", "The gateway failed to handle the request.")
}
