package weibo

import (
	"context"
	"errors"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/media"
)

// MediaFetcher downloads the receiver-side copy (tovfid) of an image or voice message.
func MediaFetcher(client *Client) media.Fetcher {
	return media.FetchFunc(func(ctx context.Context, att intake.Attachment) (media.Blob, error) {
		m, err := client.Download(ctx, att.MediaID)
		var apiErr *APIError
		if errors.Is(err, ErrMediaTooLarge) || (errors.As(err, &apiErr) && !apiErr.Temporary()) {
			return media.Blob{}, errors.Join(media.ErrGone, err)
		}
		if err != nil {
			return media.Blob{}, err
		}
		return media.Blob{Body: m.Data, ContentType: m.ContentType}, nil
	})
}
