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
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"
	"github.com/spf13/cobra"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/accept"
	"github.com/hotline12345/intake-gateway/api"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/conversation"
	"github.com/hotline12345/intake-gateway/channels/phone"
	"github.com/hotline12345/intake-gateway/channels/phone/phonehttp"
	"github.com/hotline12345/intake-gateway/channels/replies"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/forward"
	"github.com/hotline12345/intake-gateway/jobs"
	"github.com/hotline12345/intake-gateway/logging"
	"github.com/hotline12345/intake-gateway/media"
	"github.com/hotline12345/intake-gateway/metrics"
	"github.com/hotline12345/intake-gateway/notify"
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

	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Server.Listen, err)
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	logger.Info("gateway started", "listen", ln.Addr().String(), "store", a.storeKind, "config", describePath(resolved), "version", version)

	if cfg.Server.DebugListen != "" {
		go serveDebug(cfg.Server.DebugListen, logger)
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
	logger.Info("shutting down")
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancelShutdown()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("graceful shutdown incomplete", "error", err.Error())
	}
	return nil
}

// app is an assembled gateway: everything serve runs, without the listener.
type app struct {
	cfg       *config.Config
	log       *slog.Logger
	service   *accept.Service
	receiver  *conversation.Receiver
	handler   http.Handler
	store     migratingStore
	storeKind string
	registry  *prometheus.Registry
	closers   []func()
}

// Reload re-reads the rule files and the reply texts (SIGHUP). A file that does not load leaves
// everything as it was.
func (a *app) Reload() error {
	rules, err := loadRules(a.cfg)
	if err != nil {
		return err
	}
	texts, err := loadReplies(a.cfg)
	if err != nil {
		return err
	}
	a.service.SetRules(rules)
	a.receiver.SetReplies(texts)
	return nil
}

// Close stops the parts in reverse order of starting them.
func (a *app) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// assemble opens and migrates the store and builds the HTTP handler with every route.
func assemble(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: logger, registry: prometheus.NewRegistry()}
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(a.registry)

	// The job workers must be registered before the store opens its job client; they get the
	// store (and the notifier its senders) once it is open.
	fw := forward.NewWorker(cfg.Forwarding, cfg.CaseSystems, nil, nil, logger, m)
	notifier := notify.New(nil, func() *replies.Replies { return a.receiver.Texts() }, cfg.Notifications, nil, "", cfg.CaseNo.Location(), logger)
	blobs := media.DirStore{Dir: cfg.Database.AttachmentsDir}
	fetch := media.NewWorker(blobs, store.NewID, logger)
	workers := river.NewWorkers()
	river.AddWorker(workers, fw)
	river.AddWorker(workers, notify.NewWorker(notifier))
	river.AddWorker(workers, fetch)
	queues := map[string]river.QueueConfig{jobs.QueueNotify: {MaxWorkers: 20}, jobs.QueueMedia: {MaxWorkers: 10}}
	for _, cs := range cfg.CaseSystems {
		queues[jobs.ForwardQueue(cs.Name)] = river.QueueConfig{MaxWorkers: cfg.Forwarding.Workers}
	}
	rc := &river.Config{
		Workers:           workers,
		Queues:            queues,
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 250 * time.Millisecond,
		Logger:            logging.AtLeast(logger, slog.LevelWarn),
	}

	openCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	st, kind, err := openStore(openCtx, cfg, logger, m, rc)
	if err != nil {
		return nil, err
	}
	a.store, a.storeKind = st, kind
	a.closers = append(a.closers, func() { _ = st.Close() })
	fail := func(err error) (*app, error) {
		a.Close()
		return nil, err
	}
	if err := st.Migrate(openCtx); err != nil {
		return fail(err)
	}
	fw.SetStore(st)
	notifier.SetStore(st)
	fetch.SetCaseStore(st)

	rules, err := loadRules(cfg)
	if err != nil {
		return fail(err)
	}
	svc := accept.New(st, nil, accept.Options{
		MaxTextChars:  cfg.Limits.MaxTextChars,
		MaxFutureSkew: cfg.Limits.MaxFutureSkew,
		Normalize:     rules,
		Route:         forward.NewRouter(cfg.Forwarding, cfg.CaseSystems).Route,
		Duplicates:    cfg.Duplicates,
	}, m)
	a.service = svc
	chDeps := channels.Deps{Nonces: st, Logger: logger, Clock: intake.SystemClock, Metrics: a.registry, Server: cfg.Server}
	receiver, err := newReceiver(cfg, st, svc, chDeps)
	if err != nil {
		return fail(err)
	}
	chDeps.Receiver = receiver
	a.receiver = receiver
	routes, smsChannel, fetchers, err := platformClients(cfg, st, logger)
	if err != nil {
		return fail(err)
	}
	notifier.SetRoutes(routes, smsChannel)
	fetch.SetFetchers(fetchers)

	e, err := api.New(api.Deps{
		Store: st, Submitter: svc, APIKeys: cfg.APIKeys, Limits: cfg.Limits, Server: cfg.Server,
		Logger: logger, Registry: a.registry, Notifier: notifier, Attachments: blobs,
	})
	if err != nil {
		return fail(err)
	}
	if err := registerChannels(e, cfg, chDeps, st); err != nil {
		return fail(err)
	}
	e.POST("/v1/transcripts", phonehttp.TranscriptsHandler(svc, phonehttp.WithDeliveries(st), phonehttp.WithLogger(logger),
		phonehttp.WithParseOptions(phone.Options{LowConfidence: cfg.Limits.LowConfidence})),
		api.NewAuthenticator(cfg.APIKeys).Middleware(), api.RequireScope(api.ScopeSubmit),
		api.ReadBody(cfg.Limits.MaxBodyBytes, phonehttp.MediaTypes...))
	a.handler = e

	if len(cfg.CaseSystems) == 0 {
		logger.Warn("no case_systems configured: cases are stored and their deliveries wait in the queue")
	}
	if err := st.StartWorkers(context.WithoutCancel(ctx)); err != nil {
		return fail(err)
	}
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	go fw.Run(watchCtx)
	a.closers = append(a.closers, stopWatch)
	return a, nil
}

// serveDebug exposes pprof on a separate, private listener, never on the public one.
func serveDebug(addr string, logger *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	logger.Info("debug listener", "listen", addr)
	if err := srv.ListenAndServe(); err != nil {
		logger.Warn("debug listener stopped", "error", err.Error())
	}
}
