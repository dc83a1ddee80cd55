package open311

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
)

// Format is a response format, chosen by the path's extension.
type Format string

// Formats.
const (
	XML  Format = "xml"
	JSON Format = "json"
)

// The spec's response shapes. XML names the list's root and items; JSON (the spec's "Spark
// convention") drops the root: a list is an array of objects. Fields the spec lists as
// optional are always written (empty when unknown) except lat/long, which have no empty form.

type xmlServices struct {
	XMLName  xml.Name      `xml:"services"`
	Services []serviceJSON `xml:"service"`
}

type serviceJSON struct {
	ServiceCode string `json:"service_code" xml:"service_code"`
	ServiceName string `json:"service_name" xml:"service_name"`
	Description string `json:"description" xml:"description"`
	Metadata    bool   `json:"metadata" xml:"metadata"`
	Type        string `json:"type" xml:"type"`
	Keywords    string `json:"keywords" xml:"keywords"`
	Group       string `json:"group" xml:"group"`
}

type definitionJSON struct {
	XMLName     xml.Name        `json:"-" xml:"service_definition"`
	ServiceCode string          `json:"service_code" xml:"service_code"`
	Attributes  []attributeJSON `json:"attributes" xml:"attributes>attribute"`
}

type attributeJSON struct {
	Variable            bool        `json:"variable" xml:"variable"`
	Code                string      `json:"code" xml:"code"`
	Datatype            string      `json:"datatype" xml:"datatype"`
	Required            bool        `json:"required" xml:"required"`
	DatatypeDescription string      `json:"datatype_description" xml:"datatype_description"`
	Order               int         `json:"order" xml:"order"`
	Description         string      `json:"description" xml:"description"`
	Values              []valueJSON `json:"values" xml:"values>value"`
}

type valueJSON struct {
	Key  string `json:"key" xml:"key"`
	Name string `json:"name" xml:"name"`
}

type xmlCreated struct {
	XMLName  xml.Name      `xml:"service_requests"`
	Requests []createdJSON `xml:"request"`
}

type createdJSON struct {
	ServiceRequestID string `json:"service_request_id" xml:"service_request_id"`
	ServiceNotice    string `json:"service_notice" xml:"service_notice"`
	AccountID        string `json:"account_id,omitempty" xml:"account_id,omitempty"`
}

type xmlRequests struct {
	XMLName  xml.Name      `xml:"service_requests"`
	Requests []requestJSON `xml:"request"`
}

type requestJSON struct {
	ServiceRequestID  string   `json:"service_request_id" xml:"service_request_id"`
	Status            string   `json:"status" xml:"status"`
	StatusNotes       string   `json:"status_notes" xml:"status_notes"`
	ServiceName       string   `json:"service_name" xml:"service_name"`
	ServiceCode       string   `json:"service_code" xml:"service_code"`
	Description       string   `json:"description" xml:"description"`
	AgencyResponsible string   `json:"agency_responsible" xml:"agency_responsible"`
	ServiceNotice     string   `json:"service_notice" xml:"service_notice"`
	RequestedDatetime string   `json:"requested_datetime" xml:"requested_datetime"`
	UpdatedDatetime   string   `json:"updated_datetime" xml:"updated_datetime"`
	ExpectedDatetime  string   `json:"expected_datetime" xml:"expected_datetime"`
	Address           string   `json:"address" xml:"address"`
	AddressID         string   `json:"address_id" xml:"address_id"`
	Zipcode           string   `json:"zipcode" xml:"zipcode"`
	Lat               *float64 `json:"lat,omitempty" xml:"lat,omitempty"`
	Long              *float64 `json:"long,omitempty" xml:"long,omitempty"`
	MediaURL          string   `json:"media_url" xml:"media_url"`
}

type xmlUpdates struct {
	XMLName xml.Name     `xml:"service_request_updates"`
	Updates []updateJSON `xml:"request_update"`
}

type updateJSON struct {
	UpdateID         string `json:"update_id" xml:"update_id"`
	ServiceRequestID string `json:"service_request_id" xml:"service_request_id"`
	Status           string `json:"status" xml:"status"`
	UpdatedDatetime  string `json:"updated_datetime" xml:"updated_datetime"`
	Description      string `json:"description" xml:"description"`
	MediaURL         string `json:"media_url" xml:"media_url"`
	ExternalStatus   string `json:"external_status_code" xml:"external_status_code"`
}

type discoveryJSON struct {
	XMLName   xml.Name       `json:"-" xml:"discovery"`
	Changeset string         `json:"changeset" xml:"changeset"`
	Contact   string         `json:"contact" xml:"contact"`
	KeyURL    string         `json:"key_service" xml:"key_service"`
	Endpoints []endpointJSON `json:"endpoints" xml:"endpoints>endpoint"`
}

type endpointJSON struct {
	Specification string   `json:"specification" xml:"specification"`
	URL           string   `json:"url" xml:"url"`
	Changeset     string   `json:"changeset" xml:"changeset"`
	Type          string   `json:"type" xml:"type"`
	Formats       []string `json:"formats" xml:"formats>format"`
}

type xmlErrors struct {
	XMLName xml.Name    `xml:"errors"`
	Errors  []errorJSON `xml:"error"`
}

type errorJSON struct {
	Code        int    `json:"code" xml:"code"`
	Description string `json:"description" xml:"description"`
}

// contentType is the media type of a format, always UTF-8.
func (f Format) contentType() string {
	if f == JSON {
		return "application/json; charset=utf-8"
	}
	return "text/xml; charset=utf-8"
}

// encode renders v (JSON: jsonV, the array or object; XML: xmlV, with its root).
func encode(f Format, jsonV, xmlV any) ([]byte, error) {
	var b bytes.Buffer
	if f == JSON {
		enc := json.NewEncoder(&b)
		// Descriptions are citizens' text: keep < > & as they are instead of \u003c escapes,
		// which clients would show literally if they do not decode JSON fully.
		enc.SetEscapeHTML(false)
		if err := enc.Encode(jsonV); err != nil {
			return nil, fmt.Errorf("encode json: %w", err)
		}
		return b.Bytes(), nil
	}
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(xmlV); err != nil {
		return nil, fmt.Errorf("encode xml: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// write sends a response body.
func write(w http.ResponseWriter, f Format, status int, jsonV, xmlV any) error {
	body, err := encode(f, jsonV, xmlV)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", f.contentType())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}

// writeErrors sends the spec's error list with one HTTP status; every entry carries it as its
// code.
func writeErrors(w http.ResponseWriter, f Format, status int, descriptions ...string) error {
	list := make([]errorJSON, len(descriptions))
	for i, d := range descriptions {
		list[i] = errorJSON{Code: status, Description: d}
	}
	return write(w, f, status, list, xmlErrors{Errors: list})
}
