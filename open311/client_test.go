package open311_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// georeport is a second, independent Open311 client: it knows the spec, not this package. It
// shares no type with the server, so a field the server names differently from the spec fails
// here as it would in a reporting app.
type georeport struct {
	base   string // ".../open311/v2"
	apiKey string
	format string // "xml" or "json"
}

type grRequest struct {
	ServiceRequestID  string  `xml:"service_request_id" json:"service_request_id"`
	Status            string  `xml:"status" json:"status"`
	StatusNotes       string  `xml:"status_notes" json:"status_notes"`
	ServiceName       string  `xml:"service_name" json:"service_name"`
	ServiceCode       string  `xml:"service_code" json:"service_code"`
	Description       string  `xml:"description" json:"description"`
	AgencyResponsible string  `xml:"agency_responsible" json:"agency_responsible"`
	ServiceNotice     string  `xml:"service_notice" json:"service_notice"`
	RequestedDatetime string  `xml:"requested_datetime" json:"requested_datetime"`
	UpdatedDatetime   string  `xml:"updated_datetime" json:"updated_datetime"`
	ExpectedDatetime  string  `xml:"expected_datetime" json:"expected_datetime"`
	Address           string  `xml:"address" json:"address"`
	AddressID         string  `xml:"address_id" json:"address_id"`
	Zipcode           string  `xml:"zipcode" json:"zipcode"`
	Lat               float64 `xml:"lat" json:"lat"`
	Long              float64 `xml:"long" json:"long"`
	MediaURL          string  `xml:"media_url" json:"media_url"`
}

type grRequests struct {
	Requests []grRequest `xml:"request"`
}

type grCreated struct {
	Requests []struct {
		ServiceRequestID string `xml:"service_request_id" json:"service_request_id"`
		Token            string `xml:"token" json:"token"`
		ServiceNotice    string `xml:"service_notice" json:"service_notice"`
		AccountID        string `xml:"account_id" json:"account_id"`
	} `xml:"request"`
}

type grErrors struct {
	Errors []struct {
		Code        int    `xml:"code" json:"code"`
		Description string `xml:"description" json:"description"`
	} `xml:"error"`
}

type grError struct {
	Status int
	grErrors
}

func (e *grError) Error() string { return fmt.Sprintf("HTTP %d: %+v", e.Status, e.Errors) }

func (c georeport) decode(res *http.Response, xmlInto, jsonInto any) error {
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		e := &grError{Status: res.StatusCode}
		var derr error
		if c.format == "json" {
			derr = json.Unmarshal(body, &e.Errors)
		} else {
			derr = xml.Unmarshal(body, &e.grErrors)
		}
		if derr != nil {
			return fmt.Errorf("HTTP %d with an unreadable error list: %v: %s", res.StatusCode, derr, body)
		}
		return e
	}
	if c.format == "json" {
		return json.Unmarshal(body, jsonInto)
	}
	return xml.Unmarshal(body, xmlInto)
}

// create files a request as the spec's POST requests.
func (c georeport) create(service string, fields url.Values) (id, notice string, err error) {
	form := url.Values{"api_key": {c.apiKey}, "service_code": {service}}
	for k, v := range fields {
		form[k] = v
	}
	res, err := http.Post(c.base+"/requests."+c.format, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", err
	}
	var x grCreated
	if err := c.decode(res, &x, &x.Requests); err != nil {
		return "", "", err
	}
	if len(x.Requests) != 1 || x.Requests[0].ServiceRequestID == "" || x.Requests[0].Token != "" {
		return "", "", fmt.Errorf("want one service_request_id and no token, got %+v", x.Requests)
	}
	return x.Requests[0].ServiceRequestID, x.Requests[0].ServiceNotice, nil
}

// request reads one request back.
func (c georeport) request(id string) (grRequest, error) {
	res, err := http.Get(c.base + "/requests/" + url.PathEscape(id) + "." + c.format + "?" + url.Values{"api_key": {c.apiKey}}.Encode())
	if err != nil {
		return grRequest{}, err
	}
	var x grRequests
	if err := c.decode(res, &x, &x.Requests); err != nil {
		return grRequest{}, err
	}
	if len(x.Requests) != 1 {
		return grRequest{}, fmt.Errorf("want one request, got %d", len(x.Requests))
	}
	return x.Requests[0], nil
}

// requests lists requests with the spec's filters. Like FixMyStreet with always_send_api_key,
// the client sends its api_key on reads too.
func (c georeport) requests(q url.Values) ([]grRequest, error) {
	q = cloneWith(q, "api_key", c.apiKey)
	res, err := http.Get(c.base + "/requests." + c.format + "?" + q.Encode())
	if err != nil {
		return nil, err
	}
	var x grRequests
	if err := c.decode(res, &x, &x.Requests); err != nil {
		return nil, err
	}
	return x.Requests, nil
}

func cloneWith(q url.Values, k, v string) url.Values {
	out := url.Values{}
	for key, vals := range q {
		out[key] = append([]string(nil), vals...)
	}
	out.Set(k, v)
	return out
}
