package webhook_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/normalize"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/sqlite"
)

// TestExamplesThroughTheCore: what the two worked examples extract is accepted by the real
// intake service and stored, and a retry of the same payload is the same case.
func TestExamplesThroughTheCore(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "intake.db"), Options: store.Options{CaseNoPrefix: "WH"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc := app.NewIntake(st, nil, app.IntakeOptions{Normalize: normalize.Options{PhoneRegion: "CN"}}, nil)
	submit := func(_ context.Context, m app.Message) (app.Reply, error) {
		rc, err := svc.Submit(ctx, m.Submission)
		if err != nil {
			return app.Reply{}, err
		}
		return app.Reply{Text: "已受理", Outcome: app.OutcomeCreated, Case: rc.Case}, nil
	}

	city := serve(t, loadExample(t, "cityapp.yaml"), cityNow, nil)
	city.recv.answer = submit
	var caseNos []string
	for i := 0; i < 2; i++ {
		rec := city.do(signedCity(cityReport))
		var ans struct {
			Data struct {
				CaseNo string `json:"case_no"`
			} `json:"data"`
		}
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &ans) != nil || ans.Data.CaseNo == "" {
			t.Fatalf("city app: %d %s", rec.Code, rec.Body.String())
		}
		caseNos = append(caseNos, ans.Data.CaseNo)
	}
	if caseNos[0] != caseNos[1] {
		t.Fatalf("retry made a second case: %v", caseNos)
	}

	county := serve(t, loadExample(t, "sorted-sha1.yaml"), countyNow, nil)
	county.recv.answer = submit
	if rec := county.do(countyRequest(countyPush, countyQuery("1764230400000", "1"))); rec.Code != 200 {
		t.Fatalf("county: %d %s", rec.Code, rec.Body.String())
	}

	page, err := st.ListCases(ctx, intake.CaseFilter{Limit: 10})
	if err != nil || len(page.Cases) != 2 {
		t.Fatalf("%d cases, %v", len(page.Cases), err)
	}
	for _, c := range page.Cases {
		switch c.ChannelID {
		case "cityapp":
			if c.Citizen.Phone != "+8613800138000" || len(c.Attachments) != 3 || c.Location == nil || c.Metadata["app_category"] != "市政设施" {
				t.Errorf("city case %+v", c)
			}
		case "county-social":
			if c.ExternalID != "7301234567890123456" || c.Metadata["sender_id"] != "5123498765" || len(c.Attachments) != 2 {
				t.Errorf("county case %+v", c)
			}
		default:
			t.Errorf("case on %s", c.ChannelID)
		}
	}
}
