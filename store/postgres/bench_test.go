package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

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
