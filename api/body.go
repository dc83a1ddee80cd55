package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jsonstrict"
)

type rawBodyKey struct{}

// RawBody returns the request body captured by ReadBody.
func RawBody(ctx context.Context) []byte {
	b, _ := ctx.Value(rawBodyKey{}).([]byte)
	return b
}

// ReadBody reads the whole body once, before any handler: it enforces the size limit (413), the
// media types the operation accepts (415) and UTF-8 validity (400), keeps the bytes in the
// request context for the audit record, and puts a fresh reader back for the binder.
func ReadBody(limit int64, mediaTypes ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
			if err != nil || !contains(mediaTypes, strings.ToLower(mt)) {
				return writeProblem(c, problem(http.StatusUnsupportedMediaType, "unsupported-media-type",
					"Unsupported Content-Type", "Send the body as "+strings.Join(mediaTypes, " or ")+"."))
			}
			if req.ContentLength > limit {
				return writeProblem(c, tooLarge(limit))
			}
			body, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
			if err != nil {
				return writeProblem(c, problem(http.StatusBadRequest, "unreadable-body", "Unreadable body", "The request body could not be read."))
			}
			if int64(len(body)) > limit {
				return writeProblem(c, tooLarge(limit))
			}
			if !utf8.Valid(body) {
				return writeProblem(c, problem(http.StatusBadRequest, "invalid-utf8", "Invalid UTF-8", "The request body is not valid UTF-8."))
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			c.SetRequest(req.WithContext(context.WithValue(req.Context(), rawBodyKey{}, body)))
			return next(c)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func tooLarge(limit int64) *ProblemError {
	return problem(http.StatusRequestEntityTooLarge, "too-large", "Body too large",
		fmt.Sprintf("The request body exceeds the limit of %d bytes.", limit))
}

// StrictJSONBinder decodes JSON bodies strictly: unknown fields, trailing data and type errors
// are 400s naming the field. The generated strict handlers call it for every JSON body.
type StrictJSONBinder struct{}

// Bind decodes the request body into i.
func (StrictJSONBinder) Bind(i any, c echo.Context) error {
	body := RawBody(c.Request().Context())
	if body == nil {
		var err error
		if body, err = io.ReadAll(c.Request().Body); err != nil {
			return problem(http.StatusBadRequest, "unreadable-body", "Unreadable body", "The request body could not be read.")
		}
	}
	return decodeStrict(body, i)
}

// decodeStrict decodes one JSON document into v, rejecting unknown fields and trailing data.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return problem(http.StatusBadRequest, "invalid-json", "Invalid JSON", "The request body is empty.")
	}
	var dup *jsonstrict.DuplicateKeyError
	if err := jsonstrict.CheckDuplicateKeys(body); errors.As(err, &dup) {
		p := problem(http.StatusBadRequest, "invalid-json", "Invalid JSON", "A member name appears twice in one object.")
		p.Fields = []intake.FieldError{{Field: dup.Path, Reason: "appears more than once"}}
		return p
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if dec.More() {
		return problem(http.StatusBadRequest, "invalid-json", "Invalid JSON", "The body holds more than one JSON value.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return problem(http.StatusBadRequest, "invalid-json", "Invalid JSON", "Unexpected data after the JSON value.")
	}
	return nil
}

func jsonProblem(err error) *ProblemError {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		tm     *time.ParseError
	)
	p := problem(http.StatusBadRequest, "invalid-json", "Invalid JSON", "")
	switch {
	case errors.As(err, &syntax):
		p.Detail = fmt.Sprintf("Malformed JSON at byte %d: %v.", syntax.Offset, syntax)
	case errors.As(err, &typ):
		p.Kind, p.Title = "validation", "Invalid submission"
		p.Detail = "A field has the wrong type."
		p.Fields = []intake.FieldError{{Field: typ.Field, Reason: "must be " + jsonTypeName(typ.Type.Kind().String())}}
	case errors.As(err, &tm):
		p.Kind, p.Title = "validation", "Invalid submission"
		p.Detail = "A timestamp does not parse."
		p.Fields = []intake.FieldError{{Field: "occurred_at", Reason: "must be an RFC 3339 timestamp with a zone, e.g. 2026-11-27T09:30:00+08:00"}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		p.Kind, p.Title = "validation", "Invalid submission"
		p.Detail = "The body has a field this API does not know."
		p.Fields = []intake.FieldError{{Field: name, Reason: "unknown field"}}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		p.Detail = "The JSON body ends too early."
	default:
		p.Detail = "The body is not valid JSON."
	}
	return p
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "float64", "float32", "int", "int64", "int32":
		return "a number"
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	}
	return "of another type"
}

func isTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded)
}
