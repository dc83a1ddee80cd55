package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/media"
)

// maxMediaBytes bounds one MMS attachment or recording.
const maxMediaBytes = 50 << 20

// MediaFetcher downloads MMS media and call recordings with the account's credentials. Twilio
// answers media URLs with a redirect to its storage; credentials go only to Twilio's own host.
func MediaFetcher(cfg config.Channel, hc *http.Client) media.Fetcher {
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	return media.FetchFunc(func(ctx context.Context, att intake.Attachment) (media.Blob, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, att.URL, nil)
		if err != nil {
			return media.Blob{}, errors.Join(media.ErrGone, fmt.Errorf("twilio media URL: %w", err))
		}
		req.SetBasicAuth(cfg.AccountSID, cfg.AuthToken)
		res, err := hc.Do(req)
		if err != nil {
			return media.Blob{}, fmt.Errorf("twilio media: %w", err)
		}
		defer res.Body.Close()
		switch {
		case res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusGone:
			return media.Blob{}, fmt.Errorf("%w: twilio media answered %d", media.ErrGone, res.StatusCode)
		case res.StatusCode >= 300:
			return media.Blob{}, fmt.Errorf("twilio media answered %d", res.StatusCode)
		}
		body, err := io.ReadAll(io.LimitReader(res.Body, maxMediaBytes+1))
		if err != nil {
			return media.Blob{}, fmt.Errorf("twilio media: %w", err)
		}
		if len(body) > maxMediaBytes {
			return media.Blob{}, fmt.Errorf("%w: twilio media larger than %d bytes", media.ErrGone, maxMediaBytes)
		}
		return media.Blob{Body: body, ContentType: res.Header.Get("Content-Type")}, nil
	})
}
