package app_test

import (
	"context"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/app"
)

type nullStore struct{ intake.Store }

func (nullStore) CreateCase(_ context.Context, nc intake.NewCase) (intake.CreateResult, error) {
	nc.Case.CaseNo = "WH2026112700001"
	return intake.CreateResult{Case: nc.Case, Created: true}, nil
}

// BenchmarkSubmitWithoutStore measures the intake pipeline's own CPU per submission:
// normalization, ids, query code and validation. go test -bench SubmitWithoutStore ./internal/app/
func BenchmarkSubmitWithoutStore(b *testing.B) {
	svc := app.NewIntake(nullStore{}, nil, app.IntakeOptions{MaxTextChars: 10000, MaxFutureSkew: time.Minute}, nil)
	lat, lng := 37.5, 122.1
	sub := intake.Submission{
		Channel: intake.ChannelPhone, ChannelID: "rest:crm", ExternalID: "k",
		Citizen:     intake.CitizenInput{Name: "李女士", Phone: "13800138000"},
		Text:        "小区门口的路灯坏了快一个星期了，晚上出门特别黑，老人孩子走路很不安全，请尽快派人维修。",
		Location:    &intake.Location{Lat: &lat, Lng: &lng, Address: "环翠区文化中路12号"},
		Attachments: []intake.Attachment{{Kind: intake.AttachmentImage, URL: "https://example.com/a.jpg"}},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Submit(context.Background(), sub); err != nil {
			b.Fatal(err)
		}
	}
}
