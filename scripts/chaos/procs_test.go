package main

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestProcCPU: a child that spins shows CPU time growing; one that has exited has none to read.
func TestProcCPU(t *testing.T) {
	p, err := startProc("spinner", filepath.Join(t.TempDir(), "spin.log"), "sh", "-c", "while :; do :; done")
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop(syscall.SIGKILL, time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		used, err := p.cpu()
		if err != nil {
			t.Fatal(err)
		}
		if used >= 50*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a spinning child shows %s of CPU after 10 s", used)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.stop(syscall.SIGKILL, time.Second)
	if _, err := p.cpu(); err == nil {
		t.Fatal("CPU time read from a process that has exited")
	}
}
