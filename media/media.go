// Package media copies the media citizens send (photos, voice, video, recordings) from the
// platforms into the gateway's own attachment store, because the platforms do not keep them:
// WeChat deletes temporary media after three days, and Twilio recordings and MMS need the
// account's credentials. A job per attachment fetches it after the channel has been answered;
// the case record then points to /v1/attachments/{id}.
//
// The URLs come from outside (platform messages, REST clients), so every fetch goes through
// internal/safefetch: allowed hosts only, public addresses only, bounded redirects, size and
// time. An attachment the policy refuses is never fetched and stays on the case as it came.
package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/internal/safefetch"
)

// PathPrefix is where stored attachments are served.
const PathPrefix = "/v1/attachments/"

// Blob is fetched media.
type Blob struct {
	Body        []byte
	ContentType string
	Filename    string
}

// ErrGone marks media the platform no longer has (expired, deleted): retrying cannot help.
var ErrGone = errors.New("media is gone at the platform")

// Fetcher gets an attachment's media from its platform.
type Fetcher interface {
	Fetch(ctx context.Context, att intake.Attachment) (Blob, error)
}

// FetchFunc adapts a function to Fetcher.
type FetchFunc func(ctx context.Context, att intake.Attachment) (Blob, error)

// Fetch calls f.
func (f FetchFunc) Fetch(ctx context.Context, att intake.Attachment) (Blob, error) {
	return f(ctx, att)
}

// Store keeps attachments; the directory store is the default, and an object store can follow
// behind the same interface.
type Store interface {
	Put(ctx context.Context, id string, b Blob) error
	Open(ctx context.Context, id string) (io.ReadCloser, string, error)
}

// ToFetch says which attachments of a submission need fetching: platform media ids (WeChat,
// Weibo), and the recordings and MMS links of SMS and phone calls (they need credentials).
func ToFetch(kind intake.ChannelKind, atts []intake.Attachment) []int {
	var out []int
	for i, a := range atts {
		switch {
		case strings.HasPrefix(a.URL, PathPrefix):
		case a.MediaID != "" && (kind == intake.ChannelWeChat || kind == intake.ChannelWeibo):
			out = append(out, i)
		case a.URL != "" && (kind == intake.ChannelSMS || kind == intake.ChannelPhone) && a.Kind != intake.AttachmentLink:
			out = append(out, i)
		}
	}
	return out
}

// CaseStore is what the worker needs from the case store.
type CaseStore interface {
	GetCase(ctx context.Context, ref string) (*intake.Case, error)
	SetAttachment(ctx context.Context, caseID string, index int, att intake.Attachment) error
}

// Worker runs fetch_media jobs.
type Worker struct {
	river.WorkerDefaults[jobs.FetchMedia]
	cases    CaseStore
	blobs    Store
	fetchers map[string]Fetcher // by channel id
	fallback Fetcher            // for channel ids without a fetcher: REST and call-centre uploads
	newID    func() string
	log      *slog.Logger
}

// NewWorker builds the worker over the case store and the attachment store. fetchers holds a
// fetcher per channel id; fallback fetches for every other channel id (REST submissions and
// call-centre transcripts name their media by URL) and may be nil: nothing is fetched for them.
func NewWorker(cases CaseStore, blobs Store, fetchers map[string]Fetcher, fallback Fetcher, newID func() string, logger *slog.Logger) *Worker {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if fetchers == nil {
		fetchers = map[string]Fetcher{}
	}
	return &Worker{cases: cases, blobs: blobs, fetchers: fetchers, fallback: fallback, newID: newID, log: logger}
}

func (w *Worker) fetcher(channelID string) Fetcher {
	if f, ok := w.fetchers[channelID]; ok {
		return f
	}
	return w.fallback
}

// Admits reports whether an attachment of channelID would be fetched: there is a fetcher for
// the channel, and it allows the attachment's URL. Intake asks before it queues a job, so an
// attachment whose URL the policy refuses never gets one and stays on the case as it came.
func (w *Worker) Admits(channelID string, att intake.Attachment) bool {
	f := w.fetcher(channelID)
	if f == nil {
		return false
	}
	if a, ok := f.(Admitter); ok {
		return a.Admits(att)
	}
	return true
}

// Work fetches one attachment and points the case record at the stored copy.
func (w *Worker) Work(ctx context.Context, job *river.Job[jobs.FetchMedia]) error {
	a := job.Args
	c, err := w.cases.GetCase(ctx, a.CaseID)
	if errors.Is(err, intake.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if a.Index < 0 || a.Index >= len(c.Attachments) {
		return river.JobCancel(fmt.Errorf("case %s has no attachment %d", a.CaseID, a.Index))
	}
	att := c.Attachments[a.Index]
	if strings.HasPrefix(att.URL, PathPrefix) {
		return nil // fetched by an earlier run
	}
	f := w.fetcher(a.ChannelID)
	if f == nil {
		w.log.WarnContext(ctx, "no media fetcher for the channel; the attachment stays a link", "case_id", a.CaseID, "index", a.Index, "channel_id", a.ChannelID)
		return river.JobCancel(fmt.Errorf("no media fetcher for channel %s", a.ChannelID))
	}
	blob, err := f.Fetch(ctx, att)
	if errors.Is(err, safefetch.ErrRefused) {
		// The URL, a redirect or the address behind them is not allowed; the case keeps the
		// attachment as it came. The error names scheme and host only.
		w.log.WarnContext(ctx, "attachment not fetched: refused by the media fetch policy", "case_id", a.CaseID, "index", a.Index, "error", err.Error())
		return river.JobCancel(err)
	}
	if errors.Is(err, ErrGone) {
		w.log.WarnContext(ctx, "attachment media is gone at the platform", "case_id", a.CaseID, "index", a.Index, "error", err.Error())
		return river.JobCancel(err)
	}
	if err != nil {
		return fmt.Errorf("fetch attachment %d of case %s: %w", a.Index, a.CaseID, err)
	}
	id := w.newID()
	if err := w.blobs.Put(ctx, id, blob); err != nil {
		return err
	}
	if att.MediaID == "" {
		att.MediaID = att.URL // keep where it came from
	}
	att.URL = PathPrefix + id
	if blob.ContentType != "" {
		att.ContentType = blob.ContentType
	}
	return w.cases.SetAttachment(ctx, a.CaseID, a.Index, att)
}

// DirStore keeps attachments as files in a directory: <id> and <id>.type (the content type).
type DirStore struct {
	Dir string
}

var validID = regexp.MustCompile(`^[0-9a-f-]{36}$`)

func (d DirStore) path(id string) (string, error) {
	if !validID.MatchString(id) {
		return "", fmt.Errorf("attachment %q: %w", id, intake.ErrNotFound)
	}
	return filepath.Join(d.Dir, id[:2], id), nil
}

// Put writes an attachment atomically (temporary file, then rename).
func (d DirStore) Put(_ context.Context, id string, b Blob) error {
	p, err := d.path(id)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("attachment directory: %w", err)
	}
	// The body first, the content type last: Open treats the type file as the mark that the
	// attachment is complete.
	for _, f := range []struct {
		name string
		data []byte
	}{{p, b.Body}, {p + ".type", []byte(b.ContentType)}} {
		tmp := f.name + ".tmp"
		if err := os.WriteFile(tmp, f.data, 0o640); err != nil {
			return fmt.Errorf("write attachment: %w", err)
		}
		if err := os.Rename(tmp, f.name); err != nil {
			return fmt.Errorf("write attachment: %w", err)
		}
	}
	return nil
}

// Open returns an attachment's content and content type.
func (d DirStore) Open(_ context.Context, id string) (io.ReadCloser, string, error) {
	p, err := d.path(id)
	if err != nil {
		return nil, "", err
	}
	ct, err := os.ReadFile(p + ".type")
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", fmt.Errorf("attachment %s: %w", id, intake.ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("read attachment: %w", err)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, "", fmt.Errorf("read attachment: %w", err)
	}
	return f, string(ct), nil
}

// MaxBytes bounds one fetched attachment.
const MaxBytes = 50 << 20

// Admitter is a Fetcher that can tell, before any network traffic, whether it would fetch an
// attachment at all (its URL's scheme and host are allowed).
type Admitter interface {
	Admits(att intake.Attachment) bool
}

// URLFetcher downloads an attachment's URL under policy (see internal/safefetch): the MMS
// media and recordings a platform links to, and the files REST clients link to. creds, when
// not nil, are added to a request only for the hosts they name, and never follow a redirect to
// another host.
func URLFetcher(policy safefetch.Policy, creds *safefetch.Credentials) Fetcher {
	return &urlFetcher{policy: policy, client: policy.Client(), creds: creds}
}

type urlFetcher struct {
	policy safefetch.Policy
	client *http.Client
	creds  *safefetch.Credentials
}

// Admits reports whether the policy allows the attachment's URL.
func (f *urlFetcher) Admits(att intake.Attachment) bool {
	u, err := url.Parse(att.URL)
	return err == nil && f.policy.CheckURL(u) == nil
}

func (f *urlFetcher) Fetch(ctx context.Context, att intake.Attachment) (Blob, error) {
	u, err := url.Parse(att.URL)
	if err != nil {
		return Blob{}, fmt.Errorf("%w: attachment URL does not parse", safefetch.ErrRefused)
	}
	if err := f.policy.CheckURL(u); err != nil {
		return Blob{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Blob{}, fmt.Errorf("%w: %v", safefetch.ErrRefused, err)
	}
	if f.creds != nil {
		f.creds.Attach(req)
	}
	res, err := f.client.Do(req)
	if err != nil {
		return Blob{}, fmt.Errorf("fetch attachment: %w", scrubURL(err))
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusGone:
		return Blob{}, fmt.Errorf("%w: %d", ErrGone, res.StatusCode)
	case res.StatusCode >= 300:
		return Blob{}, fmt.Errorf("fetch attachment: status %d", res.StatusCode)
	}
	if res.ContentLength > MaxBytes {
		return Blob{}, fmt.Errorf("%w: larger than %d bytes", ErrGone, MaxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, MaxBytes+1))
	if err != nil {
		return Blob{}, fmt.Errorf("fetch attachment: %w", scrubURL(err))
	}
	if len(body) > MaxBytes {
		return Blob{}, fmt.Errorf("%w: larger than %d bytes", ErrGone, MaxBytes)
	}
	return Blob{Body: body, ContentType: res.Header.Get("Content-Type")}, nil
}

// scrubURL drops the request URL from a transport error: media URLs carry signatures and
// tokens, and these errors end up in job records and logs.
func scrubURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}
