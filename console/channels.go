package console

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// channelDays is the channels page's period: the last 30 days.
const channelDays = 30

// ChannelInfo is one configured channel, for the channels page.
type ChannelInfo struct {
	ID   string
	Kind intake.ChannelKind
	// TokenKey names the channel's access token in the store's platform tokens (WeChat:
	// "wechat:" + app id); empty for channels without one.
	TokenKey string
}

// Refusal is a count of webhook requests a channel refused with a 4xx, by reason.
type Refusal struct {
	ChannelID string
	Reason    string
	Count     int
}

// The page mixes two sources on purpose. Cases and failed notifications come from the store,
// so they are right across replicas. Refusals are this replica's Prometheus counters since it
// started (Options.Refusals): counting every refused request in the database would turn each
// hostile request into a write, which is what the refusal is there to prevent; the sum across
// replicas is the metric intake_webhook_refused_total, and the page says so.

type channelRow struct {
	ID, Kind      string
	Cases         int
	LastCaseAt    time.Time
	Refusals      []intake.KeyCount
	Token         string
	TokenAlert    bool
	Failures      []intake.KeyCount
	LastFailureAt time.Time
}

type channelsView struct {
	Days int
	Rows []channelRow
}

func (c *Console) channelsPage(w http.ResponseWriter, r *http.Request) {
	now := c.now()
	acts, err := c.store.ChannelActivity(r.Context(), now.AddDate(0, 0, -channelDays))
	if err == nil {
		var tokens []intake.TokenState
		if tokens, err = c.store.TokenStates(r.Context()); err == nil {
			c.render(w, r, http.StatusOK, "channels", viewerFrom(r.Context()), channelsView{Days: channelDays, Rows: c.channelRows(now, acts, tokens)})
			return
		}
	}
	c.opts.Logger.Error("console: channels page", "error", err.Error())
	c.fail(w, r, nil, http.StatusServiceUnavailable, "暂时无法读取渠道状态，请稍后重试。")
}

func (c *Console) channelRows(now time.Time, acts []intake.ChannelActivity, tokens []intake.TokenState) []channelRow {
	rows := map[string]*channelRow{}
	row := func(id string, kind intake.ChannelKind) *channelRow {
		if r, ok := rows[id]; ok {
			if r.Kind == "" && kind != "" {
				r.Kind = nameOr(channelNames, kind)
			}
			return r
		}
		r := &channelRow{ID: id, Token: "—"}
		if kind != "" {
			r.Kind = nameOr(channelNames, kind)
		}
		rows[id] = r
		return r
	}
	expiry := map[string]time.Time{}
	for _, t := range tokens {
		expiry[t.Key] = t.ExpiresAt
	}
	for _, ch := range c.opts.Channels {
		r := row(ch.ID, ch.Kind)
		if ch.TokenKey == "" {
			continue
		}
		switch exp, ok := expiry[ch.TokenKey]; {
		case !ok:
			r.Token = "尚未获取"
		case now.Before(exp):
			r.Token = "有效，至 " + exp.In(c.opts.Location).Format("2006-01-02 15:04")
		default:
			r.Token, r.TokenAlert = "已过期（"+exp.In(c.opts.Location).Format("2006-01-02 15:04")+"）", true
		}
	}
	for _, a := range acts {
		r := row(a.ChannelID, a.Channel)
		r.Cases, r.LastCaseAt, r.Failures, r.LastFailureAt = a.Cases, a.LastCaseAt, a.FailedNotices, a.LastFailureAt
	}
	if c.opts.Refusals != nil {
		for _, f := range c.opts.Refusals() {
			r := row(f.ChannelID, "")
			r.Refusals = append(r.Refusals, intake.KeyCount{Key: f.Reason, Count: f.Count})
		}
	}
	out := make([]channelRow, 0, len(rows))
	for _, r := range rows {
		slices.SortFunc(r.Refusals, func(a, b intake.KeyCount) int { return cmp.Or(b.Count-a.Count, cmp.Compare(a.Key, b.Key)) })
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b channelRow) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
