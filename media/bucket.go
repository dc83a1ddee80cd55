package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"

	"gocloud.dev/blob"
	// The bucket schemes attachments.url may name: file:// for one machine (or a shared mount),
	// mem:// for tests, and s3:// (bucket_s3.go). Google Cloud Storage and Azure are left out on
	// purpose: each pulls its SDK into the binary, and an S3-compatible endpoint covers the
	// deployments the gateway is made for.
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/memblob"
	"gocloud.dev/gcerrors"

	intake "github.com/hotline12345/intake-gateway"
)

// BucketStore keeps attachments in a gocloud.dev/blob bucket, so that every replica of the
// gateway serves the attachments any of them fetched. The content type is kept as the object's
// own attribute, not in a second object, so a copy is complete or absent.
type BucketStore struct {
	bucket *blob.Bucket
}

var _ Store = (*BucketStore)(nil)

// OpenBucket opens the bucket attachments.url names, e.g. file:///var/lib/intake-gateway/attachments,
// s3://bucket?region=cn-north-1 or s3://bucket?endpoint=https://minio.internal:9000&use_path_style=true
// (credentials from the environment, as the AWS SDK reads them), mem:// in tests.
//
// For file:// URLs the directory is created when missing (create_dir) and temporary files are
// written beside their final name (no_tmp_dir), unless the URL says otherwise: the default
// temporary directory is often another filesystem, where the final rename would fail.
func OpenBucket(ctx context.Context, rawURL string) (*BucketStore, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("attachments.url: %w", err)
	}
	if u.Scheme == "file" {
		q := u.Query()
		for _, k := range []string{"create_dir", "no_tmp_dir"} {
			if !q.Has(k) {
				q.Set(k, "true")
			}
		}
		u.RawQuery = q.Encode()
	}
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		// The URL may carry credentials (an S3 endpoint's userinfo); only its scheme is named.
		return nil, fmt.Errorf("attachments.url: open %s:// bucket: %w", u.Scheme, scrubbed(err, u.Scheme, rawURL, u.String()))
	}
	return &BucketStore{bucket: b}, nil
}

// NewBucketStore wraps an open bucket (tests pass memblob's).
func NewBucketStore(b *blob.Bucket) *BucketStore { return &BucketStore{bucket: b} }

// Close closes the bucket.
func (s *BucketStore) Close() error { return s.bucket.Close() }

// key spreads objects over 256 prefixes, as DirStore spreads files over directories: a listing
// of one prefix (an operator's, a backup tool's) stays small.
func bucketKey(id string) (string, error) {
	if !validID.MatchString(id) {
		return "", fmt.Errorf("attachment %q: %w", id, intake.ErrNotFound)
	}
	return id[:2] + "/" + id, nil
}

// Put writes an attachment. The object appears only when the write completed: fileblob renames
// a finished temporary file, object stores commit on close, and a failed write is aborted by
// cancelling its context.
func (s *BucketStore) Put(ctx context.Context, id string, b Blob) error {
	key, err := bucketKey(id)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The stored type is the platform's (empty when it gave none): sniffing would make up a
	// type the case record does not have. A type that does not parse is stored as opaque bytes
	// instead of failing the job on every retry.
	ct := b.ContentType
	if ct != "" {
		if _, _, err := mime.ParseMediaType(ct); err != nil {
			ct = "application/octet-stream"
		}
	}
	w, err := s.bucket.NewWriter(wctx, key, &blob.WriterOptions{ContentType: ct, DisableContentTypeDetection: true})
	if err != nil {
		return fmt.Errorf("write attachment: %w", err)
	}
	if _, err := w.Write(b.Body); err != nil {
		cancel()
		_ = w.Close()
		return fmt.Errorf("write attachment: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write attachment: %w", err)
	}
	return nil
}

// Open returns an attachment's content and content type.
func (s *BucketStore) Open(ctx context.Context, id string) (io.ReadCloser, string, error) {
	key, err := bucketKey(id)
	if err != nil {
		return nil, "", err
	}
	r, err := s.bucket.NewReader(ctx, key, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, "", fmt.Errorf("attachment %s: %w", id, intake.ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("read attachment: %w", err)
	}
	return r, r.ContentType(), nil
}

// scrubbed drops the URL from an opener's error when it repeats it: it may carry credentials.
func scrubbed(err error, scheme string, urls ...string) error {
	msg := err.Error()
	for _, u := range urls {
		if u != "" && strings.Contains(msg, u) {
			msg = strings.ReplaceAll(msg, u, scheme+"://...")
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}
