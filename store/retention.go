package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// Pseudonym replaces one personal value of a kind ("name", "phone", "openid", "weibo_uid") by
// its keyed pseudonym (retention.Pseudonymizer): the same value always gets the same pseudonym,
// so counts per citizen survive, but the value cannot be recovered without the key.
type Pseudonym func(kind, value string) string

// Kinds of personal value a Pseudonym is asked for.
const (
	PersonalName     = "name"
	PersonalPhone    = "phone"
	PersonalOpenID   = "openid"
	PersonalWeiboUID = "weibo_uid"
)

// RetentionBatch is how many cases one retention transaction takes by default: enough to make
// progress through a backlog of years, small enough to hold locks only briefly beside intake.
const RetentionBatch = 200

// RetentionCursor is how far a retention sweep has come: cases are taken in (received_at, id)
// order, and a case's received_at is set when it is stored, so nothing appears behind the cursor
// once the period has passed it.
type RetentionCursor struct {
	ReceivedAt time.Time
	ID         string
}

// Retention sweeps, as named in the retention_progress table.
const (
	SweepRawPayload   = "raw_payload"
	SweepPersonalData = "personal_data"
)

// CitizenColumns are the values of the cases table's citizen columns after pseudonymizing.
type CitizenColumns struct {
	Phone, OpenID, WeiboUID *string
}

// PseudonymizeRecord replaces the citizen's name, phone numbers, WeChat openid and Weibo uid in a
// stored case record by their pseudonyms and returns the new record with the values of the
// citizen columns. Everything else in the record (channel, category, times, status, location,
// text) stays as it was: statistics keep working. The record is edited as JSON, not decoded into
// intake.Case, so that members this version does not know survive.
func PseudonymizeRecord(record []byte, p Pseudonym) ([]byte, CitizenColumns, error) {
	var rec map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(record))
	dec.UseNumber()
	if err := dec.Decode(&rec); err != nil {
		return nil, CitizenColumns{}, fmt.Errorf("pseudonymize: decode record: %w", err)
	}
	var cit map[string]any
	if raw, ok := rec["citizen"]; ok && len(raw) > 0 && string(raw) != "null" {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&cit); err != nil {
			return nil, CitizenColumns{}, fmt.Errorf("pseudonymize: decode citizen: %w", err)
		}
	}
	if cit == nil {
		cit = map[string]any{}
	}
	str := func(k string) string { s, _ := cit[k].(string); return s }
	set := func(k, kind string) *string {
		v := str(k)
		if v == "" {
			return nil
		}
		ps := p(kind, v)
		cit[k] = ps
		return &ps
	}
	set("name", PersonalName)
	phone := str("phone")
	var cols CitizenColumns
	cols.Phone = set("phone", PersonalPhone)
	// The number as typed is the same number: it gets the same pseudonym when it was understood.
	if raw := str("phone_raw"); raw != "" {
		if phone != "" {
			cit["phone_raw"] = *cols.Phone
		} else {
			cit["phone_raw"] = p(PersonalPhone, raw)
		}
	}
	cols.OpenID = set("wechat_openid", PersonalOpenID)
	cols.WeiboUID = set("weibo_uid", PersonalWeiboUID)
	craw, err := json.Marshal(cit)
	if err != nil {
		return nil, CitizenColumns{}, fmt.Errorf("pseudonymize: encode citizen: %w", err)
	}
	rec["citizen"] = craw
	out, err := json.Marshal(rec)
	if err != nil {
		return nil, CitizenColumns{}, fmt.Errorf("pseudonymize: encode record: %w", err)
	}
	return out, cols, nil
}

// AddressKind is the kind of personal value a notification address of channel kind ch is.
func AddressKind(ch intake.ChannelKind) string {
	switch ch {
	case intake.ChannelWeChat:
		return PersonalOpenID
	case intake.ChannelWeibo:
		return PersonalWeiboUID
	}
	return PersonalPhone
}
