package forward_test

import (
	"os"
	"testing"

	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

// TestMain drops the template databases this package's tests created, so that a test run
// leaves nothing behind on a shared PostgreSQL server.
func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropTemplates()
	os.Exit(code)
}
