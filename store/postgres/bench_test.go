package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/replies"
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

// BenchmarkConversationMessage measures a new citizen's WeChat text through the conversation
// (what the message already became, then a new case, group-committed) with 32 concurrent
// callers, with the per-citizen lock held in the process only and with the cross-replica
// advisory lock as well, alternating in one run so that both see the same machine. Run:
// go test -bench ConversationMessage -run '^$' -count 5 ./store/postgres/
func BenchmarkConversationMessage(b *testing.B) {
	s := openStoreB(b)
	texts, err := replies.Parse(configs.Messages)
	if err != nil {
		b.Fatal(err)
	}
	svc := app.NewIntake(s, nil, app.IntakeOptions{MaxTextChars: 10000, MaxFutureSkew: 5 * time.Minute}, nil)
	var seq atomic.Int64
	for _, mode := range []struct {
		name   string
		locker app.CitizenLocker
	}{{"lock=process", nil}, {"lock=advisory", s}} {
		conv, err := app.NewConversation(s, svc, replies.NewCurrent(texts), app.ConversationOptions{
			Conversation: app.ConversationSettings{Window: 10 * time.Minute, QueryKeywords: []string{"查询"}},
			Locker:       mode.locker,
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(mode.name, func(b *testing.B) {
			b.SetParallelism(16) // × GOMAXPROCS(2) = 32 callers
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					_, err := conv.Receive(context.Background(), app.Message{Submission: intake.Submission{
						Channel: intake.ChannelWeChat, ChannelID: "wechat-bench", ExternalID: fmt.Sprint(n),
						Citizen: intake.CitizenInput{WeChatOpenID: fmt.Sprintf("oBench%08d", n)},
						Text:    "小区门口的路灯坏了快一个星期了，晚上出门特别黑，请尽快派人维修。",
					}})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
