package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hotline12345/intake-gateway/internal/app"
)

// Reply shapes.
const (
	// ShapeNone answers every accepted request with reply.body as it is (default: empty).
	ShapeNone = "none"
	// ShapeTemplate answers with reply.body, a JSON document whose string values may hold
	// placeholders.
	ShapeTemplate = "template"
)

// Placeholders of a template, replaced inside JSON string values:
//
//	{{text}}         the reply text for the citizen (may be empty)
//	{{case_no}}      the case number (工单编号); empty when no case was made or found
//	{{query_code}}   the case's query code (查询码)
//	{{outcome}}      created, duplicate, supplement, status_query, …
//	{{external_id}}  the payload's own id, as extracted
//	{{channel_id}}   the configured channel id
var placeholderNames = []string{"text", "case_no", "query_code", "outcome", "external_id", "channel_id"}

var placeholderRe = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

type replySpec struct {
	shape       string
	status      int
	contentType string
	fixed       []byte
	tmpl        any // decoded template (ShapeTemplate)
	maxText     int
}

func compileReply(e *errs, r *rawReply) replySpec {
	rs := replySpec{shape: ShapeNone, status: 200}
	if r == nil {
		return rs
	}
	if r.Status != 0 {
		if r.Status < 200 || r.Status > 299 || r.Status == 204 || r.Status == 205 {
			e.add("reply.status", "must be a 2xx status that carries a body (not 204/205), got %d", r.Status)
		} else {
			rs.status = r.Status
		}
	}
	if r.MaxText < 0 {
		e.add("reply.max_text_runes", "must not be negative")
	}
	rs.maxText = r.MaxText
	rs.contentType = r.ContentType
	switch r.Shape {
	case "", ShapeNone:
		rs.fixed = []byte(r.Body)
		if placeholderRe.MatchString(r.Body) {
			e.add("reply.body", "has placeholders, but reply.shape is none (use template)")
		}
		if rs.contentType == "" {
			rs.contentType = "text/plain; charset=utf-8"
		}
	case ShapeTemplate:
		rs.shape = ShapeTemplate
		if rs.contentType == "" {
			rs.contentType = "application/json; charset=utf-8"
		}
		t, err := compileTemplate(r.Body)
		if err != nil {
			e.add("reply.body", "%v", err)
		}
		rs.tmpl = t
	default:
		e.add("reply.shape", "must be none or template, got %q", r.Shape)
	}
	return rs
}

// compileTemplate parses a reply template: a JSON object or array whose string values may hold
// placeholders. The values are substituted into decoded strings and the document is encoded
// again, so no reply text can change the document's structure: quotes, backslashes and
// braces in the text end up escaped inside the string they were put in.
func compileTemplate(body string) (any, error) {
	if strings.TrimSpace(body) == "" {
		return nil, fmt.Errorf("is required for shape template: a JSON document such as {\"code\":0,\"msg\":\"{{text}}\"}")
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("has data after the JSON document")
	}
	switch v.(type) {
	case map[string]any, []any:
	default:
		return nil, fmt.Errorf("must be a JSON object or array")
	}
	var problem error
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			for k, c := range t {
				if placeholderRe.MatchString(k) && problem == nil {
					problem = fmt.Errorf("placeholders are allowed in string values only, not in the key %q", k)
				}
				walk(c)
			}
		case []any:
			for _, c := range t {
				walk(c)
			}
		case string:
			for _, m := range placeholderRe.FindAllStringSubmatch(t, -1) {
				if !slices.Contains(placeholderNames, m[1]) && problem == nil {
					problem = fmt.Errorf("unknown placeholder {{%s}}; known: %s", m[1], strings.Join(placeholderNames, ", "))
				}
			}
		}
	}
	walk(v)
	return v, problem
}

// render answers an accepted request.
func (rs replySpec) render(reply app.Reply, externalID, channelID string) []byte {
	if rs.shape != ShapeTemplate {
		return rs.fixed
	}
	text := strings.ToValidUTF8(reply.Text, "")
	if rs.maxText > 0 && utf8.RuneCountInString(text) > rs.maxText {
		r := []rune(text)
		text = string(r[:max(rs.maxText-1, 0)]) + "…"
	}
	vals := map[string]string{"text": text, "outcome": string(reply.Outcome), "external_id": externalID, "channel_id": channelID}
	if reply.Case != nil {
		vals["case_no"], vals["query_code"] = reply.Case.CaseNo, reply.Case.QueryCode
	}
	out := substitute(rs.tmpl, vals)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	_ = enc.Encode(out)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// substitute copies a decoded template with the placeholders in its strings replaced.
func substitute(x any, vals map[string]string) any {
	switch t := x.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, c := range t {
			m[k] = substitute(c, vals)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, c := range t {
			a[i] = substitute(c, vals)
		}
		return a
	case string:
		if !strings.Contains(t, "{{") {
			return t
		}
		return placeholderRe.ReplaceAllStringFunc(t, func(m string) string {
			return vals[placeholderRe.FindStringSubmatch(m)[1]]
		})
	}
	return x
}
