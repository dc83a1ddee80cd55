package channels

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// CheckReplay is for platforms whose signature does not cover the body (WeChat plaintext
// pushes, Weibo, webhook channels signing only a timestamp and nonce): a captured request's
// query string stays valid for the whole timestamp window, and without this anyone holding it
// could post any body as any citizen. It claims the request's signature for the body it carries
// (intake.Nonces); replayed is true when the signature came before with another body, and the
// adapter then refuses the request in its own format (403) without calling the Receiver. The same
// signature with the same body is the platform's own retry and goes on, to get the same answer
// as the first time. expires is when the request's timestamp leaves the channel's window. An
// error means the store could not be asked: nothing was acknowledged, answer 5xx.
func (c Common) CheckReplay(ctx context.Context, channelID, signature, nonce string, body []byte, expires time.Time) (replayed bool, err error) {
	sum := sha256.Sum256(body)
	ok, err := c.Nonces.ClaimNonce(ctx, intake.NonceClaim{ChannelID: channelID, Signature: signature, Nonce: nonce,
		BodyHash: hex.EncodeToString(sum[:]), At: c.Clock.Now(), ExpiresAt: expires})
	if err != nil {
		return false, fmt.Errorf("claim request signature: %w", err)
	}
	if !ok {
		// Nothing of the request is logged: its body is the replayer's, its query the victim's.
		c.Logger.WarnContext(ctx, "request refused: its signature was already used with another body (a replay)")
	}
	return !ok, nil
}

// MemoryNonces is intake.Nonces in one process's memory. An adapter uses it when Deps gives no
// Nonces (tests, `config check`); a gateway passes its store, which every replica shares and
// which outlives a restart.
type MemoryNonces struct {
	mu      sync.Mutex
	entries map[[2]string]memoryNonce
	swept   time.Time
}

type memoryNonce struct {
	bodyHash string
	expires  time.Time
}

var _ intake.Nonces = (*MemoryNonces)(nil)

// ClaimNonce implements intake.Nonces.
func (m *MemoryNonces) ClaimNonce(_ context.Context, c intake.NonceClaim) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = map[[2]string]memoryNonce{}
	}
	// Expired entries are dropped once a minute, so the map holds about one window of requests.
	if c.At.Sub(m.swept) > time.Minute {
		for k, e := range m.entries {
			if e.expires.Before(c.At) {
				delete(m.entries, k)
			}
		}
		m.swept = c.At
	}
	key := [2]string{c.ChannelID, c.Signature}
	if e, ok := m.entries[key]; ok && !e.expires.Before(c.At) {
		return e.bodyHash == c.BodyHash, nil
	}
	m.entries[key] = memoryNonce{bodyHash: c.BodyHash, expires: c.ExpiresAt}
	return true, nil
}
