package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/postgres"
)

func openPostgres(t *testing.T) intake.Store {
	url := pgtest.NewDatabase(t, "accept", func(ctx context.Context, u string) error {
		pool, err := pgxpool.New(ctx, u)
		if err != nil {
			return err
		}
		defer pool.Close()
		return postgres.Migrate(ctx, pool, nil)
	})
	st, err := postgres.Open(context.Background(), postgres.Config{URL: url, Options: store.Options{CaseNoPrefix: "WH"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestRepeatedRequestsAcrossChannels(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) intake.Store{
		"sqlite": func(t *testing.T) intake.Store {
			_, _, st := newService(t, time.Now())
			return st
		},
		"postgres": openPostgres,
	} {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			now := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
			clock := &now
			svc := app.NewIntake(st, intake.ClockFunc(func() time.Time { return *clock }), app.IntakeOptions{MaxTextChars: 1000, MaxFutureSkew: time.Minute,
				Duplicates: app.DuplicateSettings{Enabled: true, Window: 7 * 24 * time.Hour, Threshold: 0.8, ForwardAs: intake.EventCaseDuplicate}}, nil)
			submit := func(sub intake.Submission) intake.Receipt {
				t.Helper()
				r, err := svc.Submit(context.Background(), sub)
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			text := "小区门口的路灯坏了快一个星期了，晚上出门特别黑，请尽快派人维修。"
			first := submit(intake.Submission{Channel: intake.ChannelSMS, ChannelID: "sms-main", ExternalID: "SM1", Text: text,
				Citizen: intake.CitizenInput{Phone: "13800138000"}})

			// Two days later the same citizen writes nearly the same on WeChat, giving the phone.
			now = now.Add(48 * time.Hour)
			again := submit(intake.Submission{Channel: intake.ChannelWeChat, ChannelID: "wechat-main", ExternalID: "M2",
				Text: "小区门口路灯坏了快一个星期了，晚上出门特别黑，请尽快派人来维修！", Citizen: intake.CitizenInput{WeChatOpenID: "oX", Phone: "+86 138 0013 8000"}})
			if again.Case.Related.DuplicateOf != first.Case.ID || again.Deliveries[0].Event != intake.EventCaseDuplicate {
				t.Fatalf("repeat not linked: %+v %+v", again.Case.Related, again.Deliveries)
			}
			// A third copy, by openid only, links to the original, not to the second.
			now = now.Add(time.Hour)
			third := submit(intake.Submission{Channel: intake.ChannelWeChat, ChannelID: "wechat-main", ExternalID: "M3", Text: text,
				Citizen: intake.CitizenInput{WeChatOpenID: "oX"}})
			if third.Case.Related.DuplicateOf != first.Case.ID {
				t.Fatalf("third copy linked to %q, want the original", third.Case.Related.DuplicateOf)
			}
			orig, _ := st.GetCase(context.Background(), first.Case.ID)
			if orig.Related.MergedCount != 2 {
				t.Fatalf("merged_count %d, want 2", orig.Related.MergedCount)
			}
			// A different matter, another citizen, or outside the window are not repeats.
			if r := submit(intake.Submission{Channel: intake.ChannelSMS, ChannelID: "sms-main", ExternalID: "SM4", Text: "楼下烧烤店油烟太大，晚上没法开窗。",
				Citizen: intake.CitizenInput{Phone: "13800138000"}}); r.Case.Related.DuplicateOf != "" || r.Deliveries[0].Event != intake.EventCaseCreated {
				t.Fatal("a different matter was linked")
			}
			if r := submit(intake.Submission{Channel: intake.ChannelSMS, ChannelID: "sms-main", ExternalID: "SM5", Text: text,
				Citizen: intake.CitizenInput{Phone: "13900001111"}}); r.Case.Related.DuplicateOf != "" {
				t.Fatal("another citizen's case was linked")
			}
			now = now.Add(8 * 24 * time.Hour)
			if r := submit(intake.Submission{Channel: intake.ChannelSMS, ChannelID: "sms-main", ExternalID: "SM6", Text: text,
				Citizen: intake.CitizenInput{Phone: "13800138000"}}); r.Case.Related.DuplicateOf != "" {
				t.Fatal("a repeat outside the window was linked")
			}
		})
	}
}
