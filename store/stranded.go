package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/hotline12345/intake-gateway/internal/jobs"
)

// LiveJobStates are the River states in which a job will still run (or is running): a queued
// delivery with no forward job in one of them waits for nothing.
var LiveJobStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRetryable,
	rivertype.JobStatePending, rivertype.JobStateRunning,
}

// StuckJobs are the forward jobs that have been running since before a horizon: their process
// died, or they would have ended long ago.
type StuckJobs struct {
	// IDs are the jobs' ids; ByDelivery the same by the delivery each works.
	IDs        []int64
	ByDelivery map[string][]int64
}

// FindStuckJobs lists, inside tx, the forward jobs running since before horizon. Running jobs
// are few (at most the workers of every replica, plus the stranded), so they are listed
// through River rather than by reading its table.
func FindStuckJobs[TTx any](ctx context.Context, rc *river.Client[TTx], tx TTx, horizon time.Time) (StuckJobs, error) {
	out := StuckJobs{ByDelivery: map[string][]int64{}}
	params := river.NewJobListParams().Kinds(jobs.ForwardCase{}.Kind()).States(rivertype.JobStateRunning).First(1000)
	for {
		res, err := rc.JobListTx(ctx, tx, params)
		if err != nil {
			return out, fmt.Errorf("list running forward jobs: %w", err)
		}
		for _, j := range res.Jobs {
			if j.AttemptedAt == nil || !j.AttemptedAt.Before(horizon) {
				continue
			}
			var args jobs.ForwardCase
			if err := json.Unmarshal(j.EncodedArgs, &args); err != nil {
				return out, fmt.Errorf("decode forward job %d: %w", j.ID, err)
			}
			out.IDs = append(out.IDs, j.ID)
			out.ByDelivery[args.DeliveryID] = append(out.ByDelivery[args.DeliveryID], j.ID)
		}
		if len(res.Jobs) < 1000 {
			return out, nil
		}
		params = params.After(res.LastCursor)
	}
}
