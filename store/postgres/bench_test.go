package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

// BenchmarkCreateCase measures group-committed case creation with 32 concurrent callers, the
// store's share of POST /v1/submissions. Run: go test -bench CreateCase -run '^$' ./store/postgres/
func BenchmarkCreateCase(b *testing.B) {
	s := openStoreB(b)
	var seq atomic.Int64
	now := time.Now().UTC()
	b.SetParallelism(16) // × GOMAXPROCS(2) = 32 callers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			nc := storetest.NewCase("bench", fmt.Sprintf("b-%d", seq.Add(1)), now)
			if _, err := s.CreateCase(context.Background(), nc); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cases/s")
}

// BenchmarkClaimNonce measures the replay guard's write, made once per plaintext WeChat, Weibo or
// body-unsigned webhook request, with 32 concurrent callers. It commits without waiting for the
// WAL flush, so it should run far above the one-fsync-per-transaction rate of pgbench's
// single-row INSERT with few clients. Run: go test -bench ClaimNonce -run '^$' ./store/postgres/
func BenchmarkClaimNonce(b *testing.B) {
	s := openStoreB(b)
	var seq atomic.Int64
	now := time.Now().UTC()
	b.SetParallelism(16) // × GOMAXPROCS(2) = 32 callers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			ok, err := s.ClaimNonce(context.Background(), intake.NonceClaim{ChannelID: "bench", Signature: fmt.Sprintf("%040x", n),
				Nonce: fmt.Sprint(n), BodyHash: "h", At: now, ExpiresAt: now.Add(5 * time.Minute)})
			if err != nil || !ok {
				b.Errorf("claim: %v %v", ok, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}
