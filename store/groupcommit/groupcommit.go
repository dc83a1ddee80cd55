// Package groupcommit lets many concurrent callers share one database transaction.
//
// A durable gateway answers a channel only after its case is committed. One transaction per
// request caps the database at a few thousand commits a second on this hardware, so writers
// gather whatever requests are waiting, commit them together, and then answer every caller. Each
// caller is still answered only after its own commit. If a batch fails as a whole, its members are
// retried one by one so that one bad request cannot fail its neighbours.
package groupcommit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("groupcommit: closed")

// Outcome is one request's result within a committed batch.
type Outcome[Res any] struct {
	Value Res
	Err   error
}

// CommitFunc commits reqs in one transaction and returns one outcome per request, in order. A
// non-nil error means nothing was committed.
type CommitFunc[Req, Res any] func(ctx context.Context, reqs []Req) ([]Outcome[Res], error)

// Options size a Batcher.
type Options struct {
	// Writers is the number of transactions that may be in flight at once.
	Writers int
	// MaxBatch caps the requests committed together.
	MaxBatch int
	// CommitTimeout bounds one batch's transaction; it is independent of callers' contexts so
	// that one impatient caller cannot abort its neighbours' commit.
	CommitTimeout time.Duration
	// Isolate reports whether a failed batch should be retried one request at a time, i.e.
	// whether one member could have caused the failure. Nil means always. A store that is down
	// should not be asked once per request.
	Isolate func(error) bool
	// Observe, when set, is told the size, duration and error of every commit (metrics).
	Observe func(size int, took time.Duration, err error)
	// Trace, when set, derives the commit's context from its members' contexts (a tracing span
	// linked to each request) and returns what ends it. The derived context must carry no
	// member's deadline or cancellation: the commit is everybody's.
	Trace func(members []context.Context) (context.Context, func())
}

type item[Req, Res any] struct {
	ctx  context.Context
	req  Req
	done chan Outcome[Res]
}

// Batcher gathers concurrent requests into shared transactions.
type Batcher[Req, Res any] struct {
	commit CommitFunc[Req, Res]
	opts   Options
	in     chan *item[Req, Res]
	quit   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

// New starts opts.Writers writer goroutines; Close stops them.
func New[Req, Res any](commit CommitFunc[Req, Res], opts Options) *Batcher[Req, Res] {
	if opts.Writers < 1 {
		opts.Writers = 1
	}
	if opts.MaxBatch < 1 {
		opts.MaxBatch = 64
	}
	if opts.CommitTimeout <= 0 {
		opts.CommitTimeout = 10 * time.Second
	}
	b := &Batcher[Req, Res]{
		commit: commit,
		opts:   opts,
		in:     make(chan *item[Req, Res], opts.MaxBatch*opts.Writers),
		quit:   make(chan struct{}),
	}
	for range opts.Writers {
		b.wg.Add(1)
		go b.writer()
	}
	return b
}

// Do commits req with whatever else is waiting and returns its own outcome. If ctx ends while
// the request waits for its batch, Do returns ctx.Err(); the request may or may not have been
// committed, which is why every request must be idempotent.
func (b *Batcher[Req, Res]) Do(ctx context.Context, req Req) (Res, error) {
	var zero Res
	it := &item[Req, Res]{ctx: ctx, req: req, done: make(chan Outcome[Res], 1)}
	select {
	case <-b.quit:
		return zero, ErrClosed
	default:
	}
	select {
	case b.in <- it:
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-b.quit:
		return zero, ErrClosed
	}
	select {
	case out := <-it.done:
		return out.Value, out.Err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// Close stops accepting requests, finishes the batches in flight and answers what is still
// queued with ErrClosed.
func (b *Batcher[Req, Res]) Close() {
	b.once.Do(func() { close(b.quit) })
	b.wg.Wait()
	for {
		select {
		case it := <-b.in:
			it.done <- Outcome[Res]{Err: ErrClosed}
		default:
			return
		}
	}
}

func (b *Batcher[Req, Res]) writer() {
	defer b.wg.Done()
	batch := make([]*item[Req, Res], 0, b.opts.MaxBatch)
	for {
		batch = batch[:0]
		select {
		case it := <-b.in:
			batch = append(batch, it)
		case <-b.quit:
			return
		}
	gather:
		for len(batch) < b.opts.MaxBatch {
			select {
			case it := <-b.in:
				batch = append(batch, it)
			default:
				break gather
			}
		}
		b.run(batch)
	}
}

// run commits a batch, skipping callers that already gave up, and falls back to one transaction
// per request when the batch fails as a whole.
func (b *Batcher[Req, Res]) run(batch []*item[Req, Res]) {
	live := batch[:0:0]
	for _, it := range batch {
		if err := it.ctx.Err(); err != nil {
			it.done <- Outcome[Res]{Err: err}
			continue
		}
		live = append(live, it)
	}
	if len(live) == 0 {
		return
	}
	outs, err := b.commitItems(live)
	if err == nil {
		for i, it := range live {
			it.done <- outs[i]
		}
		return
	}
	if len(live) == 1 || (b.opts.Isolate != nil && !b.opts.Isolate(err)) {
		for _, it := range live {
			it.done <- Outcome[Res]{Err: err}
		}
		return
	}
	for _, it := range live {
		if ctxErr := it.ctx.Err(); ctxErr != nil {
			it.done <- Outcome[Res]{Err: ctxErr}
			continue
		}
		outs, err := b.commitItems([]*item[Req, Res]{it})
		if err != nil {
			it.done <- Outcome[Res]{Err: err}
			continue
		}
		it.done <- outs[0]
	}
}

func (b *Batcher[Req, Res]) commitItems(items []*item[Req, Res]) ([]Outcome[Res], error) {
	base := context.Background()
	if b.opts.Trace != nil {
		ctxs := make([]context.Context, len(items))
		for i, it := range items {
			ctxs[i] = it.ctx
		}
		var end func()
		base, end = b.opts.Trace(ctxs)
		defer end()
	}
	ctx, cancel := context.WithTimeout(base, b.opts.CommitTimeout)
	defer cancel()
	reqs := make([]Req, len(items))
	for i, it := range items {
		reqs[i] = it.req
	}
	start := time.Now()
	outs, err := b.commit(ctx, reqs)
	if b.opts.Observe != nil {
		b.opts.Observe(len(reqs), time.Since(start), err)
	}
	if err != nil {
		return nil, err
	}
	if len(outs) != len(reqs) {
		return nil, errors.New("groupcommit: commit returned a different number of outcomes than requests")
	}
	return outs, nil
}
