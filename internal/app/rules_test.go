package app_test

import (
	"context"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/normalize"
)

func shippedRules(t *testing.T) normalize.Options {
	t.Helper()
	c, err := normalize.NewClassifier(normalize.Sources{Taxonomy: configs.Taxonomy, Emergency: configs.Emergency, OutOfScope: configs.OutOfScope, Gazetteer: configs.Gazetteer, Referrals: configs.Referrals})
	if err != nil {
		t.Fatal(err)
	}
	loc := time.FixedZone("CST", 8*3600)
	cal, err := normalize.LoadCalendar(configs.Holidays, loc)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := normalize.ParseDeadlineRules(configs.Deadlines)
	if err != nil {
		t.Fatal(err)
	}
	return normalize.Options{Classifier: c, Calendar: cal, Deadlines: rules}
}

func TestSubmissionsAreClassifiedWithDeadlines(t *testing.T) {
	// Friday 2026-11-27 10:00 in Shanghai.
	now := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	svc, _, _ := newServiceWithLimit(t, now, 1000)
	svc.SetRules(shippedRules(t))
	submit := func(ext, text string, mutate func(*intake.Submission)) *intake.Case {
		t.Helper()
		sub := intake.Submission{Channel: intake.ChannelWeChat, ChannelID: "wx", ExternalID: ext, Text: text}
		if mutate != nil {
			mutate(&sub)
		}
		r, err := svc.Submit(context.Background(), sub)
		if err != nil {
			t.Fatal(err)
		}
		return r.Case
	}

	fire := submit("1", "楼道里着火了，浓烟很大，快来人", nil)
	if fire.Emergency == nil || fire.Emergency.Number != "119" || fire.Priority != intake.PriorityUrgent {
		t.Fatalf("emergency: %+v %s", fire.Emergency, fire.Priority)
	}
	if fire.DueAt == nil || fire.DueAt.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05") != "2026-11-27 23:59:59" {
		t.Fatalf("an emergency is due the same day: %v", fire.DueAt)
	}

	noise := submit("2", "楼下烧烤店每天营业到凌晨，油烟和噪音太大，投诉！", nil)
	if noise.Classification.Category != "environment" || noise.Classification.RequestType != intake.RequestComplaint ||
		len(noise.Classification.MatchedTerms) == 0 || noise.Emergency != nil || noise.Priority != intake.PriorityNormal {
		t.Fatalf("classification %+v", noise.Classification)
	}
	// A complaint has 15 working days; from Friday 27 November that is Friday 18 December.
	if noise.DueAt.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02") != "2026-12-18" {
		t.Fatalf("complaint due %v", noise.DueAt)
	}

	op := submit("3", "楼下烧烤店油烟太大", func(s *intake.Submission) {
		s.OperatorCategory, s.OperatorRequestType = "cityscape", intake.RequestReport
	})
	cl := op.Classification
	if cl.Source != "operator" || cl.Category != "cityscape" || cl.CategoryName != "市容环境" || cl.RequestType != intake.RequestReport ||
		cl.AutoCategory != "environment" {
		t.Fatalf("operator choice: %+v", cl)
	}

	court := submit("4", "我和开发商的合同纠纷法院已经立案了，想问问能不能催一下法官", nil)
	if !court.Classification.OutOfScope || court.Classification.OutOfScopeReason == "" {
		t.Fatalf("out of scope: %+v", court.Classification)
	}

	call := submit("5", "", func(s *intake.Submission) {
		s.Channel = intake.ChannelPhone
		s.Transcript = []intake.Segment{
			{Speaker: intake.SpeakerAgent, Text: "您好，12345热线，有什么可以帮您？着火了请拨119。", EndMS: 1000, Confidence: 0.9},
			{Speaker: intake.SpeakerCaller, Text: "我想咨询一下公积金怎么提取。", StartMS: 1000, EndMS: 3000, Confidence: 0.9},
		}
	})
	if call.Emergency != nil || call.Classification.Category != "housing_fund" {
		t.Fatalf("only the caller's turns are classified: %+v %+v", call.Emergency, call.Classification)
	}
}
