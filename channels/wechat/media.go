package wechat

import (
	"context"
	"errors"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxapi"
	"github.com/hotline12345/intake-gateway/media"
)

// errInvalidMedia is WeChat's answer for a media id it no longer has (temporary media live
// three days).
const errInvalidMedia = 40007

// MediaFetcher downloads a message's media through the media API.
func MediaFetcher(client *wxapi.Client) media.Fetcher {
	return media.FetchFunc(func(ctx context.Context, att intake.Attachment) (media.Blob, error) {
		m, err := client.GetMedia(ctx, att.MediaID)
		var apiErr *wxapi.APIError
		if errors.As(err, &apiErr) && apiErr.Code == errInvalidMedia {
			return media.Blob{}, errors.Join(media.ErrGone, err)
		}
		if err != nil {
			return media.Blob{}, err
		}
		return media.Blob{Body: m.Body, ContentType: m.ContentType, Filename: m.Filename}, nil
	})
}
