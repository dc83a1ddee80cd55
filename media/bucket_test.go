package media_test

import (
	"context"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocloud.dev/blob/memblob"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/media"
)

const attID = "0b8f5f2e-6a61-4f0c-9d3a-1f2e3d4c5b6a"

func readAttachment(t *testing.T, s media.Store, id string) ([]byte, string) {
	t.Helper()
	rc, ct, err := s.Open(context.Background(), id)
	if err != nil {
		t.Fatalf("open %s: %v", id, err)
	}
	defer rc.Close()
	body, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return body, ct
}

// Two replicas open the same file:// bucket: what one stores, the other serves, with the
// platform's content type.
func TestFileBucketIsSharedBetweenOpeners(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet", "there")
	u := (&url.URL{Scheme: "file", Path: dir}).String()
	ctx := context.Background()
	a, err := media.OpenBucket(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := media.OpenBucket(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	body := []byte("\xff\xd8JPEGDATA")
	if err := a.Put(ctx, attID, media.Blob{Body: body, ContentType: "image/jpeg"}); err != nil {
		t.Fatal(err)
	}
	got, ct := readAttachment(t, b, attID)
	if string(got) != string(body) || ct != "image/jpeg" {
		t.Fatalf("other opener read %q %q", got, ct)
	}
	// Spread over prefixes like the directory store, and no temporary files left beside them.
	entries, err := os.ReadDir(filepath.Join(dir, attID[:2]))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != attID && e.Name() != attID+".attrs" {
			t.Fatalf("unexpected file %s in the bucket", e.Name())
		}
	}
}

func TestBucketKeepsContentTypeAsGiven(t *testing.T) {
	ctx := context.Background()
	s := media.NewBucketStore(memblob.OpenBucket(nil))
	defer s.Close()
	for _, tc := range []struct{ in, want string }{
		{"audio/amr", "audio/amr"},
		// No type from the platform: none is made up by sniffing the bytes.
		{"", ""},
		// A type that does not parse is stored as opaque bytes rather than failing every retry.
		{"image/jpeg; =broken", "application/octet-stream"},
	} {
		id := strings.Replace(attID, "0b", "1c", 1)
		if err := s.Put(ctx, id, media.Blob{Body: []byte("GIF89a......"), ContentType: tc.in}); err != nil {
			t.Fatalf("put %q: %v", tc.in, err)
		}
		if _, ct := readAttachment(t, s, id); ct != tc.want {
			t.Errorf("content type %q stored as %q, want %q", tc.in, ct, tc.want)
		}
	}
}

func TestBucketRefusesUnknownAndMalformedIDs(t *testing.T) {
	ctx := context.Background()
	s := media.NewBucketStore(memblob.OpenBucket(nil))
	defer s.Close()
	if _, _, err := s.Open(ctx, attID); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("missing attachment: %v", err)
	}
	for _, id := range []string{"../../etc/passwd", "0b/" + attID, "", strings.ToUpper(attID)} {
		if _, _, err := s.Open(ctx, id); !errors.Is(err, intake.ErrNotFound) {
			t.Errorf("open %q: %v", id, err)
		}
		if err := s.Put(ctx, id, media.Blob{Body: []byte("x")}); !errors.Is(err, intake.ErrNotFound) {
			t.Errorf("put %q: %v", id, err)
		}
	}
}

func TestOpenBucketNamesNoCredentials(t *testing.T) {
	_, err := media.OpenBucket(context.Background(), "gs://user:s3cr3t@bucket")
	if err == nil {
		t.Fatal("a scheme this build does not include opened")
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error repeats the URL's credentials: %v", err)
	}
}
