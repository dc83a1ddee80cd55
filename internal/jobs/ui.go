package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"riverqueue.com/riverui"
)

// UIFor builds River's job UI (riverui) on the database of st (store/postgres or store/sqlite:
// riverui reads both), served under prefix, with its background services running until ctx
// ends. Access control is the caller's: the handler itself lets anyone in.
func UIFor(ctx context.Context, st any, prefix string, logger *slog.Logger) (http.Handler, error) {
	switch s := st.(type) {
	case pgxDriven:
		return newUI(ctx, s.JobDriver(), prefix, logger)
	case sqlDriven:
		return newUI(ctx, s.JobDriver(), prefix, logger)
	}
	return nil, fmt.Errorf("job UI: %T offers no River driver", st)
}

func newUI[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], prefix string, logger *slog.Logger) (http.Handler, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// A client without queues or workers: the UI only reads jobs and cancels, retries or
	// deletes them in the database; the gateway's runner works them.
	client, err := river.NewClient(driver, &river.Config{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("job UI: river client: %w", err)
	}
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		Logger:    logger,
		Prefix:    prefix,
		// Job arguments name cases and deliveries; shown on request only.
		JobListHideArgsByDefault: true,
	})
	if err != nil {
		return nil, fmt.Errorf("job UI: %w", err)
	}
	if err := h.Start(ctx); err != nil {
		return nil, fmt.Errorf("job UI: start: %w", err)
	}
	return h, nil
}
