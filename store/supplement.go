package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jobs"
)

// ApplySupplement merges a follow-up message into a case record: its text is appended under a
// dated marker (so the case system sees what came later and when), its attachments are added,
// and its location fills the case's when the case had none or only a text address.
func ApplySupplement(c *intake.Case, sup intake.Supplement, loc *time.Location) {
	if t := strings.TrimSpace(sup.Text); t != "" {
		when := sup.ReceivedAt
		if loc != nil {
			when = when.In(loc)
		}
		c.Content.Text += "\n[补充 " + when.Format("01-02 15:04") + "] " + t
	}
	c.Attachments = append(c.Attachments, sup.Attachments...)
	if sup.Location != nil && (c.Location == nil || (c.Location.Lat == nil && sup.Location.Lat != nil)) {
		merged := *sup.Location
		if c.Location != nil && merged.Address == "" {
			merged.Address = c.Location.Address
		}
		c.Location = &merged
	}
}

// NewUpdateDelivery is the delivery row and job for a case.updated event.
func NewUpdateDelivery(c *intake.Case, target string, now time.Time) (intake.Delivery, jobs.ForwardCase) {
	return NewDelivery(c, intake.EventCaseUpdated, target, now)
}

// ReplaceAttachment returns a stored record with attachment index replaced.
func ReplaceAttachment(record []byte, index int, att intake.Attachment) ([]byte, error) {
	var c intake.Case
	if err := json.Unmarshal(record, &c); err != nil {
		return nil, fmt.Errorf("decode case: %w", err)
	}
	if index < 0 || index >= len(c.Attachments) {
		return nil, fmt.Errorf("%w: attachment %d of %d", intake.ErrNotFound, index, len(c.Attachments))
	}
	c.Attachments[index] = att
	return EncodeRecord(&c)
}
