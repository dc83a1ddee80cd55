package main

import (
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/forward"
	"github.com/hotline12345/intake-gateway/hottopics"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/internal/logging"
	"github.com/hotline12345/intake-gateway/media"
	"github.com/hotline12345/intake-gateway/notify"
	"github.com/hotline12345/intake-gateway/retention"
)

// jobConfig is the job client of a serving gateway. Every worker runs under a bound (forwarding:
// the configured request timeout plus its bookkeeping; notifications and media: their own), and
// River rescues a job still "running" past its bound plus a margin: that is a job whose process
// died, and its delivery, notification or fetch would otherwise wait for River's default hour.
//
// rw, when retention is configured, runs the retention sweep every retention.interval on one
// replica at a time (River's leader inserts periodic jobs), one sweep at a time.
//
// ht, when hot topics are enabled, clusters the recent cases every hot_topics.interval (River's
// leader inserts the job; runs that overlap anyway are serialised by the store) and announces
// the incidents it opens.
func jobConfig(cfg *config.Config, fw *forward.Worker, nw *notify.Worker, mw *media.Worker, rw *retention.Worker, ht *hotTopicWorkers, logger *slog.Logger) *river.Config {
	workers := river.NewWorkers()
	river.AddWorker(workers, jobs.Bound(fw, fw.Bound()))
	river.AddWorker(workers, jobs.Bound(nw, jobs.NotifyBound))
	river.AddWorker(workers, jobs.Bound(mw, jobs.MediaBound))
	queues := map[string]river.QueueConfig{jobs.QueueNotify: {MaxWorkers: 20}, jobs.QueueMedia: {MaxWorkers: 10}}
	var periodic []*river.PeriodicJob
	if rw != nil {
		river.AddWorker(workers, jobs.Bound(rw, jobs.RetentionBound))
		queues[jobs.QueueMaintenance] = river.QueueConfig{MaxWorkers: 1}
		periodic = append(periodic, retention.PeriodicJob(cfg.Retention))
	}
	if ht != nil {
		river.AddWorker(workers, jobs.Bound(ht.scan, hottopics.ScanBound))
		river.AddWorker(workers, jobs.Bound(ht.announce, ht.announce.Bound()))
		// Two workers: an announcement need not wait for a clustering run to finish.
		queues[jobs.QueueHotTopics] = river.QueueConfig{MaxWorkers: 2}
		periodic = append(periodic, hottopics.PeriodicJob(cfg.HotTopics))
	}
	for _, cs := range cfg.CaseSystems {
		queues[jobs.ForwardQueue(cs.Name)] = river.QueueConfig{MaxWorkers: cfg.Forwarding.Workers}
	}
	rescue := rescueAfter(cfg)
	return &river.Config{
		Workers:           workers,
		Queues:            queues,
		PeriodicJobs:      periodic,
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 250 * time.Millisecond,
		// Every kind has its own timeout; this default only has to be no longer than the rescue
		// horizon, which River requires.
		JobTimeout:           rescue,
		RescueStuckJobsAfter: rescue,
		Logger:               logging.AtLeast(logger, slog.LevelWarn),
	}
}

// rescueAfter is how long a job may run before it counts as left behind by a dead process: the
// shortest job bound plus jobs.RescueMargin (longer-bound kinds wait for their own timeout).
// It is also the default of `deliveries requeue --stuck-for`.
func rescueAfter(cfg *config.Config) time.Duration {
	return jobs.RescueAfter(forward.JobBound(cfg.Forwarding), jobs.NotifyBound, jobs.MediaBound)
}

// hotTopicWorkers are the hot-topic clustering and announcement workers.
type hotTopicWorkers struct {
	scan     *hottopics.Scanner
	announce *hottopics.Announcer
}
