// Package retention enforces how long the gateway keeps what it need not keep for ever: the raw
// payloads of cases (the bytes as the platforms sent them) and citizens' personal data (names,
// phone numbers, WeChat openids, Weibo uids). Past their periods, a periodic job deletes the
// payloads and replaces the personal data by keyed pseudonyms, so that counts per channel, per
// category and per (pseudonymous) citizen still work while the person cannot be identified
// without the key.
package retention

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/store"
)

// Options are the retention settings (the retention section of the configuration).
type Options struct {
	// RawPayload is how many days a case's raw payloads are kept; 0 keeps them.
	RawPayload int `koanf:"raw_payload" validate:"gte=0"`
	// PersonalData is how many days a case keeps the citizen's name, phone numbers, openid and
	// Weibo uid before they are replaced by pseudonyms (and its raw payloads, which carry them
	// too, are deleted); 0 keeps them.
	PersonalData int `koanf:"personal_data" validate:"gte=0"`
	// PseudonymKey keys the pseudonyms (HMAC-SHA256); at least 16 characters, required when
	// PersonalData is set. Keep it secret and never change it: the same citizen must keep
	// getting the same pseudonym.
	PseudonymKey string `koanf:"pseudonym_key" validate:"omitempty,min=16"`
	// Interval is how often the sweep runs.
	Interval time.Duration `koanf:"interval" validate:"gt=0"`
	// Batch is how many cases one transaction takes (default store.RetentionBatch).
	Batch int `koanf:"batch" validate:"gte=0"`
}

// Enabled reports whether any retention period is set.
func (o Options) Enabled() bool { return o.RawPayload > 0 || o.PersonalData > 0 }

// Check reports settings that cannot work together.
func (o Options) Check() error {
	if o.PersonalData > 0 && len(o.PseudonymKey) < 16 {
		return errors.New("retention.pseudonym_key: is required (16+ characters) when retention.personal_data is set")
	}
	return nil
}

// Pseudonymizer makes keyed pseudonyms.
type Pseudonymizer struct{ key []byte }

// NewPseudonymizer returns a pseudonymizer keyed with key (16 bytes at least).
func NewPseudonymizer(key string) (*Pseudonymizer, error) {
	if len(key) < 16 {
		return nil, errors.New("retention: the pseudonym key must have at least 16 characters")
	}
	return &Pseudonymizer{key: []byte(key)}, nil
}

// Pseudonym is "pn_" and 20 hex digits of HMAC-SHA256(key, kind NUL value): the same value of
// the same kind always gives the same pseudonym; without the key, hashing every possible phone
// number does not find it.
func (p *Pseudonymizer) Pseudonym(kind, value string) string {
	mac := hmac.New(sha256.New, p.key)
	mac.Write([]byte(kind))
	mac.Write([]byte{0})
	mac.Write([]byte(value))
	return "pn_" + hex.EncodeToString(mac.Sum(nil)[:10])
}

// Store is what retention needs from the case store.
type Store interface {
	ClearRawPayloads(ctx context.Context, before time.Time, limit int) (int, error)
	PseudonymizeCases(ctx context.Context, before time.Time, limit int, p store.Pseudonym) (int, error)
}

// Result is what one sweep did.
type Result struct {
	RawCleared    int
	Pseudonymized int
	// Partial is set when the sweep stopped at its deadline with cases still due; the next run
	// continues.
	Partial bool
}

// Worker is the retention_sweep River worker.
type Worker struct {
	river.WorkerDefaults[jobs.RetentionSweep]
	store  Store
	opts   Options
	pseudo *Pseudonymizer
	clock  intake.Clock
	log    *slog.Logger
}

// NewWorker builds the worker. clock and logger may be nil.
func NewWorker(st Store, opts Options, clock intake.Clock, logger *slog.Logger) (*Worker, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	if opts.Batch <= 0 {
		opts.Batch = store.RetentionBatch
	}
	if clock == nil {
		clock = intake.SystemClock
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	w := &Worker{store: st, opts: opts, clock: clock, log: logger}
	if opts.PersonalData > 0 {
		p, err := NewPseudonymizer(opts.PseudonymKey)
		if err != nil {
			return nil, err
		}
		w.pseudo = p
	}
	return w, nil
}

// Work runs one sweep.
func (w *Worker) Work(ctx context.Context, _ *river.Job[jobs.RetentionSweep]) error {
	_, err := w.Sweep(ctx)
	return err
}

// Sweep clears raw payloads and pseudonymizes personal data of every case past its period, in
// batches, until none is left or ctx ends (then the result is Partial and the next sweep goes
// on from there; what was done is kept).
func (w *Worker) Sweep(ctx context.Context) (Result, error) {
	var res Result
	now := w.clock.Now()
	run := func(days int, step func(before time.Time) (int, error), count *int) error {
		if days <= 0 {
			return nil
		}
		before := now.AddDate(0, 0, -days)
		for {
			n, err := step(before)
			*count += n
			if ctx.Err() != nil {
				res.Partial = true
				return nil
			}
			if err != nil {
				return err
			}
			if n < w.opts.Batch {
				return nil
			}
		}
	}
	err := run(w.opts.PersonalData, func(before time.Time) (int, error) {
		return w.store.PseudonymizeCases(ctx, before, w.opts.Batch, w.pseudo.Pseudonym)
	}, &res.Pseudonymized)
	if err == nil {
		err = run(w.opts.RawPayload, func(before time.Time) (int, error) {
			return w.store.ClearRawPayloads(ctx, before, w.opts.Batch)
		}, &res.RawCleared)
	}
	if res.RawCleared > 0 || res.Pseudonymized > 0 || err != nil {
		attrs := []any{"raw_payloads_cleared", res.RawCleared, "cases_pseudonymized", res.Pseudonymized, "partial", res.Partial}
		if err != nil {
			w.log.Error("retention sweep failed", append(attrs, "error", err.Error())...)
		} else {
			w.log.Info("retention sweep", attrs...)
		}
	}
	if err != nil {
		return res, fmt.Errorf("retention sweep: %w", err)
	}
	return res, nil
}

// PeriodicJob is the River periodic job that runs the sweep every opts.Interval, and once at
// start.
func PeriodicJob(opts Options) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(opts.Interval),
		func() (river.JobArgs, *river.InsertOpts) {
			return jobs.RetentionSweep{}, &river.InsertOpts{Queue: jobs.QueueMaintenance, MaxAttempts: 3}
		}, &river.PeriodicJobOpts{RunOnStart: true})
}
