// Package webhook connects a platform that pushes signed JSON — a city app, another social
// account, a partner system — without code: a channel entry of type webhook says how requests
// are signed, where the request time is, which JSON pointers (RFC 6901) hold the message's
// parts and what to answer. Route: POST /hooks/webhook/<channel id>.
//
// Validate checks an entry completely, including every pointer against the entry's sample
// payload; `config check` and New both call it, so a configuration that would fail on the first
// real request is refused at start, with the key named as channels[<id>].<key>.
//
// # What a request goes through
//
//  1. Size: over max_body_bytes is 413.
//  2. Signature (403 when missing or wrong; 400 when a signed header or query value is missing),
//     compared in constant time on the decoded bytes.
//  3. Request time from a header or query parameter (before the body is parsed) or a JSON
//     pointer (after): missing or unparsable is 400, outside the window 403.
//  4. The body: one JSON object in valid UTF-8 with no member name twice in one object (400
//     otherwise; the sample is held to the same rules).
//  5. Fields by pointer (400 naming the key and pointer, never the value).
//  6. When the signature does not cover the body: the signature (its decoded bytes) is
//     remembered in the store with the hash of the body it first came with, until the request
//     time leaves the window. The same signature with another body is 403 ("replayed"); with
//     the same body it is the platform's retry and goes on.
//  7. The Receiver (the shared conversation mechanism) with a deadline of reply_timeout;
//     intake.ErrInvalid → 400, intake.ErrIdempotencyConflict → 409, store trouble or the
//     deadline → 503, anything else → 500; the platform should retry 5xx.
//  8. The answer in the configured shape, with reply.status.
//
// Refusals are short plain text. Nothing of a payload's content is logged at info level.
//
// # Settings
//
// Every key below sits directly in the channel entry (beside id and type). Durations need a unit
// ("5m"). Unknown keys inside signature, timestamp, fields and reply are refused as typos.
//
//	channel_kind       the case record's channel: phone, wechat, sms, weibo, rest (default), open311
//	max_body_bytes     largest body accepted (default 65536; 1024–16 MiB)
//	reply_timeout      deadline for the Receiver (default 3s; at most 30s)
//
//	signature.scheme     hmac-sha256: HMAC-SHA256 keyed with the secret over the signed parts
//	                     joined by signature.separator;
//	                     sha1-sorted: SHA-1 over the signed parts sorted as byte strings and
//	                     concatenated (the Weibo/WeChat scheme; the secret is one of the parts)
//	signature.secret     the shared secret, normally "${NAME}" (read from the environment); the
//	                     entry's app_secret is used when this is unset. At least 8 bytes.
//	signature.header     the header carrying the signature, or
//	signature.query      the query parameter carrying it (exactly one of the two)
//	signature.encoding   hex (default; either case) or base64 (standard or URL alphabet, padding
//	                     optional; hmac-sha256 only)
//	signature.prefix     literal text before the value, e.g. "sha256=" (optional, must be present
//	                     when set)
//	signature.signed     the signed parts, in order: body (the raw body), secret (sha1-sorted
//	                     only), header:<Name>, query:<name>. Default [body] for hmac-sha256 and
//	                     [secret, query:timestamp, query:nonce] for sha1-sorted.
//	signature.separator  hmac-sha256: what joins the signed parts (default ""), e.g. "." for
//	                     "<timestamp>.<body>" with signed: [header:X-Timestamp, body]
//
//	timestamp.header | timestamp.query | timestamp.pointer   where the request time is (exactly one;
//	                     required, so that a captured request cannot be replayed for ever). It must
//	                     be covered by the signature: a header or query timestamp must be listed in
//	                     signature.signed, a pointer needs body there.
//	timestamp.format     unix (seconds), unix_ms or rfc3339
//	timestamp.window     how far the request time may be from the gateway's clock, either way
//	                     (default 5m; 10s–24h)
//
//	fields.external_id   pointer to the platform's id of the message (string or number), required:
//	                     the dedup key, so a retry is never a second case
//	fields.text          pointer to the citizen's text, required; may be empty or absent when the
//	                     payload has attachments (the case text is then "[附件]")
//	fields.sender        pointer to the citizen's id on the platform (string or number)
//	fields.sender_as     which citizen field it fills: phone, weibo_uid, wechat_openid, or user_id
//	                     (default): a platform user id, kept as metadata sender_id because the case
//	                     record has no field for it (so conversation threading does not apply)
//	fields.phone         pointer to the citizen's phone number, when sender is something else
//	fields.name          pointer to the citizen's name
//	fields.time          pointer to when the citizen sent it; fields.time_format: unix, unix_ms,
//	                     rfc3339 (required with time). A time before 2000-01-01 is refused (400)
//	fields.location.lat, fields.location.lng   pointers (numbers or numeric strings; WGS84; source gps)
//	fields.location.address                    pointer (source label when there are no coordinates)
//	fields.attachments.items         pointer to an array; the pointers below are relative to
//	                                 each item (at most 20 items)
//	fields.attachments.url           an absolute http(s) URL, and/or
//	fields.attachments.media_id      the platform's file id (one of the two is required per item)
//	fields.attachments.kind          the item's kind: image, audio, video, file or link, or a
//	                                 value mapped by kind_map; anything else is default_kind
//	fields.attachments.kind_map      map of the platform's kind values to those kinds
//	fields.attachments.default_kind  default file
//	fields.attachments.content_type, fields.attachments.title   pointers
//	fields.metadata      map of metadata key → pointer to a string, number or boolean
//
//	reply.shape          none (default): answer reply.body as it is (default empty);
//	                     template: reply.body is a JSON object or array whose string values may
//	                     contain {{text}}, {{case_no}}, {{query_code}}, {{outcome}},
//	                     {{external_id}} and {{channel_id}}
//	reply.body           the answer, see shape
//	reply.content_type   default text/plain; charset=utf-8 (none), application/json; charset=utf-8
//	                     (template)
//	reply.status         default 200 (any 2xx with a body)
//	reply.max_text_runes cut {{text}} to this many runes, ending in "…" (default: no limit)
//
//	sample               required: one payload exactly as the platform sends it (JSON text as a
//	                     YAML block string, or a YAML mapping). Every pointer above must resolve
//	                     in it (item pointers in at least one item), its time must parse, and it
//	                     must extract into a valid submission.
//
// Templates are safe against injection by construction: the template is parsed as JSON when the
// configuration is loaded, the placeholders are replaced inside the decoded strings, and the
// document is encoded again, so whatever the reply text contains (quotes, backslashes, braces,
// "{{case_no}}") stays inside the string it was put in. Keys come out in sorted order.
//
// Every request's Raw is the body as received and PayloadHash its hex SHA-256; a retry with the
// same external id but another body, or from another sender, is a conflict (409) whose answer
// says nothing of the case the id belongs to.
//
// # Worked example
//
// configs/webhooks/cityapp.yaml (HMAC-SHA256 in a header, RFC 3339 times) and
// configs/webhooks/sorted-sha1.yaml (Weibo-like sorted SHA-1 in the query, millisecond times)
// are complete, commented configurations, tested with raw payloads in this package. The first,
// in short:
//
//	channels:
//	  - id: cityapp
//	    type: webhook
//	    signature: {scheme: hmac-sha256, secret: "${CITYAPP_WEBHOOK_SECRET}", header: X-CityApp-Signature, prefix: "sha256="}
//	    timestamp: {pointer: /sent_at, format: rfc3339, window: 5m}
//	    fields:
//	      external_id: /report/id
//	      sender: /user/mobile
//	      sender_as: phone
//	      text: /report/content
//	      time: /report/created_at
//	      time_format: rfc3339
//	      location: {lat: /report/location/lat, lng: /report/location/lng, address: /report/location/address}
//	      attachments: {items: /report/photos, url: /url, kind: /type, kind_map: {photo: image}}
//	    reply:
//	      shape: template
//	      body: '{"code":0,"message":"{{text}}","data":{"case_no":"{{case_no}}"}}'
//	    sample: |
//	      {"sent_at":"2026-11-27T16:00:05+08:00","user":{"mobile":"13800138000"},
//	       "report":{"id":"RPT-1","content":"路灯不亮","created_at":"2026-11-27T15:58:41+08:00",
//	                 "location":{"lat":37.5131,"lng":122.1204,"address":"文化中路"},
//	                 "photos":[{"url":"https://files.example.cn/1.jpg","type":"photo"}]}}
//
// A request is then signed as hex(HMAC-SHA256(secret, body)) in X-CityApp-Signature with the
// prefix "sha256=", and answered {"code":0,"data":{"case_no":"WH2026112700042"},"message":"您的诉求已受理…"}.
package webhook
