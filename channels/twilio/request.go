package twilio

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/internal/jsonstrict"
)

// This file reads a webhook request: its body within the limit, its parameters (form or the
// bodySHA256 JSON variant), and the payload hash. Verification is in signature.go; the fields
// of each webhook are read in inbound.go.

// requestError is a request the adapter refuses (channels.Rejection; its label is the result
// of the request counter).
type requestError = channels.Rejection

func badRequest(format string, args ...any) *requestError {
	return channels.Reject(http.StatusBadRequest, "bad_request", fmt.Sprintf(format, args...))
}

var (
	errNoSignature  = channels.Reject(http.StatusForbidden, "bad_signature", "missing X-Twilio-Signature")
	errBadSignature = channels.Reject(http.StatusForbidden, "bad_signature", "X-Twilio-Signature does not match")
	errBodyHash     = channels.Reject(http.StatusForbidden, "bad_signature", "body does not match bodySHA256")
)

func tooLarge(limit int64) *requestError {
	return channels.Reject(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body exceeds %d bytes", limit))
}

// request is an authenticated webhook request: its raw body and its parameters.
type request struct {
	body        []byte
	contentType string
	params      url.Values
	// jsonBody is set for the bodySHA256 variant; the payload hash is then the body's.
	jsonBody bool
}

// readBody reads at most limit bytes of the body.
func readBody(r *http.Request, limit int64) ([]byte, *requestError) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, badRequest("body could not be read")
	}
	if int64(len(body)) > limit {
		return nil, tooLarge(limit)
	}
	return body, nil
}

// parseParams decodes a form body; repeated names keep every value.
func parseParams(body []byte) (url.Values, *requestError) {
	p, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, badRequest("body is not a valid form encoding")
	}
	return p, nil
}

// parseJSONParams decodes the bodySHA256 variant: one JSON object whose values are strings,
// numbers, booleans, null (dropped) or arrays of those (repeated values).
func parseJSONParams(body []byte) (url.Values, *requestError) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, badRequest("body is not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("unexpected data after the JSON object")
	}
	// The decoder keeps the last of two members of one name; another reader of the signed body
	// may take the first.
	if err := jsonstrict.CheckDuplicateKeys(body); errors.Is(err, jsonstrict.ErrDuplicateKey) {
		return nil, badRequest("a member name appears twice in the JSON object")
	}
	p := url.Values{}
	for k, v := range obj {
		switch t := v.(type) {
		case []any:
			for _, item := range t {
				s, ok := scalar(item)
				if !ok {
					return nil, badRequest("field %s: nested values are not supported", k)
				}
				p.Add(k, s)
			}
		default:
			s, ok := scalar(v)
			if !ok {
				return nil, badRequest("field %s: nested values are not supported", k)
			}
			if v != nil {
				p.Add(k, s)
			}
		}
	}
	return p, nil
}

func scalar(v any) (string, bool) {
	switch t := v.(type) {
	case nil:
		return "", true
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		return strconv.FormatBool(t), true
	}
	return "", false
}

// checkUTF8 rejects parameters whose decoded names or values are not valid UTF-8.
func checkUTF8(p url.Values) *requestError {
	for k, vals := range p {
		if !utf8.ValidString(k) {
			return badRequest("a field name is not valid UTF-8")
		}
		for _, v := range vals {
			if !utf8.ValidString(v) {
				return badRequest("field %s is not valid UTF-8", k)
			}
		}
	}
	return nil
}

// payloadHash identifies the request's content: the hex SHA-256 of the parameters in canonical
// form (names sorted, values sorted), or of the raw body for a JSON body.
func (r *request) payloadHash() string {
	if r.jsonBody {
		sum := sha256.Sum256(r.body)
		return hex.EncodeToString(sum[:])
	}
	canonical := make(url.Values, len(r.params))
	for k, vals := range r.params {
		vals = slices.Clone(vals)
		slices.Sort(vals)
		canonical[k] = vals
	}
	sum := sha256.Sum256([]byte(canonical.Encode()))
	return hex.EncodeToString(sum[:])
}

func (r *request) raw() intake.RawPayload {
	return intake.RawPayload{ContentType: r.contentType, Body: r.body}
}
