package twilio

import (
	"fmt"
	"net/http"

	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/internal/safefetch"
	"github.com/hotline12345/intake-gateway/media"
)

// DefaultMediaHosts are where Twilio's media live when a channel names no media_hosts. MMS
// media and recording URLs (MediaUrlN, RecordingUrl) are on api.twilio.com, which answers a
// media request with a redirect to a short-lived URL on Twilio's media CDN (mms.twiliocdn.com,
// media.twiliocdn.com). Older accounts were redirected to an Amazon S3 host instead; that host
// is shared by every S3 customer, so it is not allowed by default — add it to media_hosts only
// for an account that still needs it.
func DefaultMediaHosts() []string { return []string{"api.twilio.com", "*.twiliocdn.com"} }

// DefaultCredentialHosts get the account SID and auth token when a channel names no
// credential_hosts: Twilio's REST API host, which alone asks for them (HTTP Basic auth).
func DefaultCredentialHosts() []string { return []string{"api.twilio.com"} }

// MediaFetcher downloads MMS media and call recordings. Requests go only to the channel's
// media hosts (by default Twilio's API and media CDN), under base's rules; the account's
// credentials go only to its credential hosts, never to a redirect target on another host.
func MediaFetcher(cfg channels.Config, base safefetch.Policy) (media.Fetcher, error) {
	hostList := cfg.MediaHosts
	if len(hostList) == 0 {
		hostList = DefaultMediaHosts()
	}
	hosts, err := safefetch.ParseHosts(hostList)
	if err != nil {
		return nil, fmt.Errorf("channels[%s].media_hosts: %w", cfg.ID, err)
	}
	credList := cfg.CredentialHosts
	if len(credList) == 0 {
		credList = DefaultCredentialHosts()
	}
	credHosts, err := safefetch.ParseHosts(credList)
	if err != nil {
		return nil, fmt.Errorf("channels[%s].credential_hosts: %w", cfg.ID, err)
	}
	if !hosts.Contains(credHosts) {
		return nil, fmt.Errorf("channels[%s].credential_hosts: %s must also be allowed by media_hosts (%s)", cfg.ID, credHosts, hosts)
	}
	sid, token := cfg.AccountSID, cfg.AuthToken
	return media.URLFetcher(base.WithHosts(hosts), &safefetch.Credentials{
		Hosts: credHosts,
		Apply: func(r *http.Request) { r.SetBasicAuth(sid, token) },
	}), nil
}
