package store_test

import (
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/store"
)

func TestIntakeActivity(t *testing.T) {
	var a store.IntakeActivity
	if a.Busy(time.Hour) {
		t.Fatal("busy before any case was created")
	}
	end := a.Begin()
	if !a.Busy(0) {
		t.Fatal("not busy while a case is being created")
	}
	end()
	if !a.Busy(time.Hour) {
		t.Fatal("not busy within the quiet period after a creation")
	}
	time.Sleep(5 * time.Millisecond)
	if a.Busy(time.Millisecond) {
		t.Fatal("still busy after the quiet period")
	}
}
