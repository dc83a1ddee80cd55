package store

import (
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// AddBacklog folds one (target, state) count of a backlog query, whose rows come ordered by
// target, into out.
func AddBacklog(out []intake.DeliveryBacklog, target string, state intake.DeliveryState, n int, oldest time.Time) []intake.DeliveryBacklog {
	if len(out) == 0 || out[len(out)-1].Target != target {
		out = append(out, intake.DeliveryBacklog{Target: target})
	}
	b := &out[len(out)-1]
	switch state {
	case intake.DeliveryQueued:
		b.Queued, b.OldestQueued = n, oldest.UTC()
	case intake.DeliveryDead:
		b.Dead = n
	}
	return out
}
