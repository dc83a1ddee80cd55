package pgtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestDatabaseNamesCarryTheirCreationTime(t *testing.T) {
	before := time.Now().Add(-time.Second)
	name := databaseName("intake_test_")
	created, ok := createdAt(name)
	if !ok || created.Before(before) || created.After(time.Now().Add(time.Second)) {
		t.Fatalf("createdAt(%q) = %v, %v", name, created, ok)
	}
	for _, foreign := range []string{"intake_test_abc", "intake_tmpl_", "intake_test_12x_y", "postgres"} {
		if _, ok := createdAt(foreign); ok {
			t.Errorf("createdAt(%q) should not find a time", foreign)
		}
	}
}

// A database left by a killed run is dropped by the next one; one a concurrent run may still
// use, and one not named by this package, are kept.
func TestAbandonedDatabasesAreSwept(t *testing.T) {
	Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	old := fmt.Sprintf("intake_tmpl_%d_%s", time.Now().Add(-7*time.Hour).Unix(), randomSuffix())
	recent := databaseName("intake_test_")
	for _, name := range []string{old, recent} {
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dropDatabase(name) })
	}
	sweepAbandoned(ctx, admin)
	exists := func(name string) bool {
		var n int
		if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if exists(old) {
		t.Errorf("%s, created 7 hours ago, was not swept", old)
	}
	if !exists(recent) {
		t.Errorf("%s, created just now, was swept", recent)
	}
	if !exists("postgres") {
		t.Error("postgres database gone")
	}
}
