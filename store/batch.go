package store

import (
	"context"
	"fmt"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store/groupcommit"
)

// Stored is a case as read back from a store, with the payload hash it was created with.
type Stored struct {
	Case        *intake.Case
	PayloadHash string
}

// BatchDriver is what a store provides to CommitBatch.
type BatchDriver interface {
	// Fresh returns those of reqs[i], i in leaders, whose keys are not stored yet. A driver may
	// number them here (and then InsertFresh must keep those numbers).
	Fresh(ctx context.Context, reqs []intake.NewCase, leaders []int) ([]int, error)
	// FindByKeys loads the stored cases for keys; missing keys are absent from the map.
	FindByKeys(ctx context.Context, keys []Key) (map[Key]Stored, error)
	// InsertFresh numbers and inserts reqs[i] for i in idx, with their payloads, history,
	// deliveries and jobs, in one transaction, and returns the delivery it queued for each key
	// it inserted. A key missing from the result was inserted concurrently by someone else.
	InsertFresh(ctx context.Context, reqs []intake.NewCase, idx []int) (map[Key]intake.Delivery, error)
}

// CommitBatch is the group-commit step both stores share. Copies of one submission inside the
// batch share one result; submissions already stored are answered from the store; the rest are
// inserted; a copy that another transaction inserted meanwhile is read back afterwards.
func CommitBatch(ctx context.Context, d BatchDriver, reqs []intake.NewCase) ([]groupcommit.Outcome[intake.CreateResult], error) {
	plan := PlanBatch(reqs)
	fresh, err := d.Fresh(ctx, reqs, plan.Leaders)
	if err != nil {
		return nil, err
	}
	isFresh := make(map[int]bool, len(fresh))
	for _, i := range fresh {
		isFresh[i] = true
	}
	var stored []Key
	for _, i := range plan.Leaders {
		if !isFresh[i] {
			stored = append(stored, KeyOf(reqs[i]))
		}
	}
	existing := map[Key]Stored{}
	if len(stored) > 0 {
		if existing, err = d.FindByKeys(ctx, stored); err != nil {
			return nil, err
		}
	}
	created := map[Key][]intake.Delivery{}
	if len(fresh) > 0 {
		inserted, err := d.InsertFresh(ctx, reqs, fresh)
		if err != nil {
			return nil, err
		}
		var raced []Key
		for _, i := range fresh {
			k := KeyOf(reqs[i])
			if d, ok := inserted[k]; ok {
				created[k] = []intake.Delivery{d}
				existing[k] = Stored{Case: reqs[i].Case, PayloadHash: reqs[i].PayloadHash}
			} else {
				raced = append(raced, k)
			}
		}
		if len(raced) > 0 {
			late, err := d.FindByKeys(ctx, raced)
			if err != nil {
				return nil, err
			}
			for k, v := range late {
				existing[k] = v
			}
		}
	}

	outs := make([]groupcommit.Outcome[intake.CreateResult], len(reqs))
	for i, r := range reqs {
		k := KeyOf(r)
		got, ok := existing[k]
		if !ok {
			outs[i].Err = fmt.Errorf("case %s/%s vanished after a conflict", k.ChannelID, k.ExternalID)
			continue
		}
		res := intake.CreateResult{Case: got.Case, PayloadHash: got.PayloadHash}
		if ds, ok := created[k]; ok && plan.Leader[i] == i {
			res.Created, res.Deliveries = true, ds
		}
		outs[i].Value = res
	}
	return outs, nil
}
