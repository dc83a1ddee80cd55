package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/api"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/phone"
	"github.com/hotline12345/intake-gateway/channels/phone/phonehttp"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/console"
	"github.com/hotline12345/intake-gateway/forward"
	"github.com/hotline12345/intake-gateway/hottopics"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/connlimit"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/internal/metrics"
	"github.com/hotline12345/intake-gateway/internal/ratelimit"
	"github.com/hotline12345/intake-gateway/internal/replies"
	"github.com/hotline12345/intake-gateway/internal/telemetry"
	"github.com/hotline12345/intake-gateway/media"
	"github.com/hotline12345/intake-gateway/notify"
	"github.com/hotline12345/intake-gateway/retention"
	"github.com/hotline12345/intake-gateway/store"
)

func serveCommand() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway (migrates the store first)",
		Long: `Runs the HTTP server: REST API, channel webhooks, health, metrics and docs. Without a
database URL the embedded SQLite store is used. SIGINT/SIGTERM shut down gracefully: requests in
flight finish and every acknowledged case is committed before the process exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return serve(ctx, path)
		},
	}
	addConfigFlag(cmd, &path)
	return cmd
}

func serve(ctx context.Context, path string) error {
	cfg, resolved, err := loadConfig(path)
	if err != nil {
		return err
	}
	logger := newLogger(cfg)
	a, err := assemble(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := bootstrapAdmin(ctx, cfg, a.store, os.Stderr); err != nil {
		return err
	}

	ln, err := listen(cfg.Server)
	if err != nil {
		return err
	}
	srv := newHTTPServer(cfg.Server, a.handler, ln)
	if a.console != nil {
		srv.RegisterOnShutdown(a.console.Close)
	}
	logger.Info("gateway started", "listen", ln.Addr().String(), "store", a.storeKind, "config", describePath(resolved), "version", version)

	var admin *http.Server
	if addr := cfg.Server.AdminAddress(); addr != "" {
		if admin, err = serveAdmin(addr, a.registry, logger); err != nil {
			return err
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
wait:
	for {
		select {
		case err := <-errc:
			return fmt.Errorf("http server: %w", err)
		case <-hup:
			if err := a.Reload(); err != nil {
				logger.Error("reload failed; the previous rules and texts stay in use", "error", err.Error())
			} else {
				logger.Info("rules and reply texts reloaded")
			}
		case <-ctx.Done():
			break wait
		}
	}
	a.shutdown(srv, admin)
	return nil
}

// shutdown stops the gateway within server.shutdown_timeout, in an order that refuses nobody
// while there is still work in hand:
//
//  1. /readyz fails at once, so a balancer moves new traffic to other replicas;
//  2. no new background job is fetched, and the jobs running (deliveries, notifications) get
//     time to finish while the listener keeps answering — the process is still whole, and a
//     request that arrives now is served, not refused;
//  3. after at least server.drain_delay, the listener closes and requests in flight finish;
//  4. the store closes (group commit flushed).
//
// Jobs still running at their deadline are cancelled and retried later by whichever replica
// runs next; nothing acknowledged depends on them.
func (a *assembly) shutdown(srv, admin *http.Server) {
	cfg := a.cfg.Server
	a.log.Info("shutting down: draining")
	a.draining.Store(true)
	deadline := time.Now().Add(cfg.ShutdownTimeout)
	// Requests in flight need up to request_timeout after the listener closes; jobs get the rest.
	httpReserve := min(cfg.RequestTimeout+time.Second, cfg.ShutdownTimeout/2)
	jobsCtx, cancelJobs := context.WithDeadline(context.Background(), deadline.Add(-httpReserve))
	defer cancelJobs()
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		a.jobs.Stop(jobsCtx)
	}()
	drain := time.NewTimer(cfg.DrainDelay)
	<-drain.C
	<-jobsDone
	a.log.Info("shutting down: background jobs stopped; closing the listener")

	httpCtx, cancelHTTP := context.WithDeadline(context.Background(), deadline)
	defer cancelHTTP()
	if err := srv.Shutdown(httpCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		a.log.Warn("graceful shutdown incomplete", "error", err.Error())
	}
	if admin != nil {
		_ = admin.Shutdown(httpCtx)
	}
}

// listen opens the public listener, capped at server.max_connections open connections: past the
// cap, idle keep-alive connections are closed to make room, and new clients wait in the
// kernel's accept queue instead of each taking a goroutine and buffers.
func listen(cfg config.Server) (*connlimit.Listener, error) {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	return connlimit.New(ln, max(cfg.MaxConnections, 1)), nil
}

// newHTTPServer bounds every phase of a connection. Reading a body is bounded per route by the
// API's read deadlines; ReadTimeout is only the backstop for the longest of them.
func newHTTPServer(cfg config.Server, h http.Handler, ln *connlimit.Listener) *http.Server {
	return &http.Server{
		Handler:           h,
		ConnState:         ln.ConnState,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       max(cfg.BatchReadTimeout, cfg.BodyReadTimeout, cfg.WebhookReadTimeout),
		WriteTimeout:      max(cfg.BatchReadTimeout, 60*time.Second),
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// assembly is an assembled gateway: everything serve runs, without the listener.
type assembly struct {
	cfg       *config.Config
	log       *slog.Logger
	service   *app.Intake
	receiver  *app.Conversation
	texts     *replies.Current
	handler   http.Handler
	store     migratingStore
	jobs      *jobs.Runner
	storeKind string
	registry  *prometheus.Registry
	closers   []func()
	// draining is set when shutdown begins: /readyz fails from then on.
	draining atomic.Bool
	// console is the operator console, nil when disabled: its live streams end when the
	// listener closes (Shutdown would otherwise wait for them).
	console *console.Console
}

// Reload re-reads the rule files and the reply texts (SIGHUP). A file that does not load leaves
// everything as it was.
func (a *assembly) Reload() error {
	rules, err := loadRules(a.cfg)
	if err != nil {
		return err
	}
	texts, err := loadReplies(a.cfg)
	if err != nil {
		return err
	}
	a.service.SetRules(rules)
	a.texts.Swap(texts)
	return nil
}

// Close stops the parts in reverse order of starting them.
func (a *assembly) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// assemble opens and migrates the store and builds the HTTP handler with every route. Each part
// is built once what it needs exists, in the order data flows back from the store: the store
// (which only inserts jobs), the platforms' clients, the workers that take the store, the job
// runner that takes the workers, the application core, and the HTTP surfaces. Nothing is set
// after it is built.
func assemble(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*assembly, error) {
	return assembleWith(ctx, cfg, logger, nil)
}

// assembleWith is assemble with platformTransport wrapping the transport of every platform API
// client (senders, media fetchers) inside tracing: the tests point the platforms' fixed API
// hosts, such as Twilio's, at fakes on the loopback. serve passes nil.
func assembleWith(ctx context.Context, cfg *config.Config, logger *slog.Logger, platformTransport func(http.RoundTripper) http.RoundTripper) (*assembly, error) {
	a := &assembly{cfg: cfg, log: logger, registry: prometheus.NewRegistry()}
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	targets := make([]string, 0, len(cfg.CaseSystems))
	for _, cs := range cfg.CaseSystems {
		targets = append(targets, cs.Name)
	}
	m := metrics.New(a.registry, targets...)
	metrics.RegisterBuildInfo(a.registry, buildVersion())

	tel, err := telemetry.New(ctx, telemetry.Options{
		Endpoint: cfg.Telemetry.OTLPEndpoint, SampleRatio: cfg.Telemetry.SampleRatio, Version: version,
	})
	if err != nil {
		return nil, err
	}
	// Registered first, so it runs last: spans of the shutdown itself still reach the collector.
	a.closers = append(a.closers, func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tel.Shutdown(flushCtx); err != nil {
			logger.Warn("traces not flushed", "error", err.Error())
		}
	})

	openCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	st, kind, err := openStore(openCtx, cfg, logger, m, tel)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.store, a.storeKind = st, kind
	a.registry.MustRegister(metrics.NewBacklog(st, metrics.BacklogOptions{Targets: targets}))
	a.closers = append(a.closers, func() { _ = st.Close() })
	fail := func(err error) (*assembly, error) {
		a.Close()
		return nil, err
	}
	if err := st.Migrate(openCtx); err != nil {
		return fail(err)
	}
	rules, err := loadRules(cfg)
	if err != nil {
		return fail(err)
	}
	texts, err := loadReplies(cfg)
	if err != nil {
		return fail(err)
	}
	a.texts = replies.NewCurrent(texts)

	// The platforms' clients (senders for notifications, media fetchers), then the workers.
	wrap := traceFunc(tel)
	if platformTransport != nil {
		trace := wrap
		wrap = func(rt http.RoundTripper) http.RoundTripper {
			if trace != nil {
				rt = trace(rt)
			}
			return platformTransport(rt)
		}
	}
	routes, smsChannel, fetchers, err := platformClients(cfg, st, wrap, logger)
	if err != nil {
		return fail(err)
	}
	rest, err := restFetcher(cfg)
	if err != nil {
		return fail(err)
	}
	fw := forward.NewWorker(st, cfg.Forwarding, cfg.CaseSystems, &http.Client{Transport: tel.Transport(forward.NewTransport())}, nil, logger, m)
	notifier := notify.New(st, a.texts.Load, cfg.Notifications, routes, smsChannel, cfg.CaseNo.Location(), logger)
	blobs, err := attachmentStore(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	if c, ok := blobs.(interface{ Close() error }); ok {
		a.closers = append(a.closers, func() { _ = c.Close() })
	}
	fetch := media.NewWorker(st, blobs, fetchers, rest, store.NewID, logger)
	var sweep *retention.Worker
	if cfg.Retention.Enabled() {
		if sweep, err = retention.NewWorker(st, cfg.Retention, nil, logger); err != nil {
			return fail(err)
		}
	}
	var topics *hotTopicWorkers
	if cfg.HotTopics.Enabled {
		scan, err := hottopics.NewScanner(st, cfg.HotTopics, nil, logger)
		if err != nil {
			return fail(err)
		}
		topics = &hotTopicWorkers{scan: scan, announce: hottopics.NewAnnouncer(st, cfg.HotTopics.Webhook,
			&http.Client{Transport: tel.Transport(forward.NewTransport())}, nil, logger)}
	}
	jobCfg := jobConfig(cfg, fw, notify.NewWorker(notifier, m), fetch, sweep, topics, logger)
	jobCfg.Middleware = tel.JobMiddleware()
	runner, err := jobs.RunnerFor(st, jobCfg)
	if err != nil {
		return fail(err)
	}
	a.jobs = runner

	svc := app.NewIntake(st, nil, app.IntakeOptions{
		MaxTextChars:  cfg.Limits.MaxTextChars,
		MaxFutureSkew: cfg.Limits.MaxFutureSkew,
		Normalize:     rules,
		Route:         forward.NewRouter(cfg.Forwarding, cfg.CaseSystems).Route,
		Duplicates:    cfg.Duplicates,
		Fetchable:     fetch.Admits,
		ObserveBuild:  m.ObserveBuild,
	}, m)
	a.service = svc
	receiver, err := newReceiver(cfg, st, svc, a.texts, logger)
	if err != nil {
		return fail(err)
	}
	a.receiver = receiver
	rl := cfg.RateLimits
	chDeps := channels.Deps{
		Receiver: channels.Throttle(receiver, keyedLimit(rl, rl.Sender)),
		Nonces:   st, Logger: logger, Clock: intake.SystemClock, Metrics: a.registry,
		PublicBaseURL: cfg.Server.PublicBaseURL, TrustedProxies: cfg.Server.TrustedProxies,
	}

	auth := api.NewAuthenticator(cfg.APIKeys).WithRateLimit(
		keyedLimit(rl, rl.APIKey))
	e, err := api.New(api.Deps{
		Store: st, Submitter: svc, APIKeys: cfg.APIKeys,
		Limits: api.Limits{
			MaxBodyBytes: cfg.Limits.MaxBodyBytes, MaxBatchLines: cfg.Limits.MaxBatchLines, MaxBatchBytes: cfg.Limits.MaxBatchBytes,
			IdempotencyKey: cfg.Limits.IdempotencyKey, MaxFutureSkew: cfg.Limits.MaxFutureSkew,
		},
		TrustedProxies: cfg.Server.TrustedProxies, RequestTimeout: cfg.Server.RequestTimeout, Streams: consoleStreams,
		Logger: logger, Registry: a.registry, Attachments: blobs,
		Events: app.NewStatusEvents(st, notifier, nil, logger, cfg.Limits.MaxFutureSkew),
		Auth:   auth,
		ReadDeadlines: api.ReadDeadlines{
			Webhook: cfg.Server.WebhookReadTimeout, Body: cfg.Server.BodyReadTimeout, Batch: cfg.Server.BatchReadTimeout,
		},
		AuthFailures: keyedLimit(rl, rl.AuthFailures),
		Draining:     a.draining.Load,
		Audit:        st,
	})
	if err != nil {
		return fail(err)
	}
	if err := registerChannels(e, cfg, chDeps, st); err != nil {
		return fail(err)
	}
	if err := registerOpen311(e, cfg, st, svc, auth, rules, a.texts, logger); err != nil {
		return fail(err)
	}
	e.POST("/v1/transcripts", phonehttp.TranscriptsHandler(svc, phonehttp.WithDeliveries(st), phonehttp.WithLogger(logger),
		phonehttp.WithParseOptions(phone.Options{LowConfidence: cfg.Limits.LowConfidence})),
		auth.Middleware(), api.RequireScope(api.ScopeSubmit),
		api.ReadBody(cfg.Limits.MaxBodyBytes, phonehttp.MediaTypes...))
	// The job UI's background services (count caches) run until the assembly closes.
	uiCtx, stopUI := context.WithCancel(context.WithoutCancel(ctx))
	a.closers = append(a.closers, stopUI)
	if a.console, err = mountConsole(uiCtx, e, cfg, st, rules, auth, a.registry, logger); err != nil {
		return fail(err)
	}
	e.Use(tel.Routes())
	a.handler = tel.Handler(e)

	if len(cfg.CaseSystems) == 0 {
		logger.Warn("no case_systems configured: cases are stored and their deliveries wait in the queue")
	}
	if err := runner.Start(context.WithoutCancel(ctx)); err != nil {
		return fail(err)
	}
	// Closers run in reverse: the runner stops (jobs in flight finish or are cancelled) before
	// the store closes under it.
	a.closers = append(a.closers, func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		runner.Stop(stopCtx)
	})
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	go fw.Run(watchCtx)
	a.closers = append(a.closers, stopWatch)
	return a, nil
}

// keyedLimit builds one replica's buckets for a configured limit: its share of the rate and burst
// (rate_limits.replicas), since every replica counts only the requests it serves.
func keyedLimit(rl config.RateLimits, l config.RateLimit) *ratelimit.Keyed {
	share := rl.Share(l)
	return ratelimit.New(ratelimit.Limit{Rate: share.Rate, Burst: share.Burst}, rl.MaxKeys, nil)
}

// attachmentStore is where fetched media is kept: the bucket attachments.url names, else the
// directory database.attachments_dir (one machine's).
func attachmentStore(ctx context.Context, cfg *config.Config) (media.Store, error) {
	if cfg.Attachments.URL == "" {
		return media.DirStore{Dir: cfg.Database.AttachmentsDir}, nil
	}
	return media.OpenBucket(ctx, cfg.Attachments.URL)
}

// adminHandler serves what only operators may see: Prometheus metrics and Go's pprof profiles.
// It is served on server.admin_listen, a private address, never on the public listener.
func adminHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", api.MetricsHandler(reg))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// serveAdmin starts the admin listener. A port that cannot be opened stops the start: an
// operator who configured metrics expects them.
func serveAdmin(addr string, reg *prometheus.Registry, logger *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server.admin_listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: adminHandler(reg), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 120 * time.Second}
	logger.Info("admin listener (metrics, pprof)", "listen", ln.Addr().String())
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("admin listener stopped", "error", err.Error())
		}
	}()
	return srv, nil
}
