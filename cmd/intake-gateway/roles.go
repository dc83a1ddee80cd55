package main

import (
	"github.com/hotline12345/intake-gateway/api"
	"github.com/hotline12345/intake-gateway/channels/wechat"
	"github.com/hotline12345/intake-gateway/console"
	"github.com/hotline12345/intake-gateway/forward"
	"github.com/hotline12345/intake-gateway/hottopics"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/metrics"
	"github.com/hotline12345/intake-gateway/media"
	"github.com/hotline12345/intake-gateway/notify"
	"github.com/hotline12345/intake-gateway/open311"
	"github.com/hotline12345/intake-gateway/retention"
	"github.com/hotline12345/intake-gateway/store/postgres"
	"github.com/hotline12345/intake-gateway/store/sqlite"
)

// Every consumer declares the part of the store it uses; both stores must satisfy every role,
// which the compiler checks here rather than at the first request that needs a missing method.
var (
	_ app.IntakeStore       = (*postgres.Store)(nil)
	_ app.ConversationStore = (*postgres.Store)(nil)
	_ app.StatusStore       = (*postgres.Store)(nil)
	_ api.Store             = (*postgres.Store)(nil)
	_ forward.Store         = (*postgres.Store)(nil)
	_ notify.Store          = (*postgres.Store)(nil)
	_ media.CaseStore       = (*postgres.Store)(nil)
	_ wechat.Tokens         = (*postgres.Store)(nil)
	_ open311.Store         = (*postgres.Store)(nil)
	_ metrics.BacklogSource = (*postgres.Store)(nil)
	_ retention.Store       = (*postgres.Store)(nil)
	_ hottopics.Store       = (*postgres.Store)(nil)
	_ console.Store         = (*postgres.Store)(nil)
	_ api.AuditLog          = (*postgres.Store)(nil)

	_ app.IntakeStore       = (*sqlite.Store)(nil)
	_ app.ConversationStore = (*sqlite.Store)(nil)
	_ app.StatusStore       = (*sqlite.Store)(nil)
	_ api.Store             = (*sqlite.Store)(nil)
	_ forward.Store         = (*sqlite.Store)(nil)
	_ notify.Store          = (*sqlite.Store)(nil)
	_ media.CaseStore       = (*sqlite.Store)(nil)
	_ wechat.Tokens         = (*sqlite.Store)(nil)
	_ open311.Store         = (*sqlite.Store)(nil)
	_ metrics.BacklogSource = (*sqlite.Store)(nil)
	_ retention.Store       = (*sqlite.Store)(nil)
	_ hottopics.Store       = (*sqlite.Store)(nil)
	_ console.Store         = (*sqlite.Store)(nil)
	_ api.AuditLog          = (*sqlite.Store)(nil)
)
