//go:build !no_s3

package media

// s3:// buckets: S3 and S3-compatible stores (MinIO, Ceph, the clouds' S3 endpoints). The AWS
// SDK adds about 11 MB to the binary (72 MB instead of 61); a build for one machine or a shared
// mount can leave it out with -tags no_s3, and attachments.url then refuses s3:// at start.
import _ "gocloud.dev/blob/s3blob"
