//go:build !no_s3

package media_test

import (
	"context"
	"testing"

	"github.com/hotline12345/intake-gateway/media"
)

// The default build opens s3:// buckets (S3-compatible endpoints included). Opening sends
// nothing; credentials come from the environment, set here so that the SDK never looks for
// instance metadata.
func TestS3BucketSchemeIsBuiltIn(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b, err := media.OpenBucket(context.Background(), "s3://intake-attachments?region=cn-north-1&endpoint=http://127.0.0.1:9&use_path_style=true")
	if err != nil {
		t.Fatalf("s3:// does not open: %v", err)
	}
	_ = b.Close()
}
