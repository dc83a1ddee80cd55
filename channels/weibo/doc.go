// Package weibo is the Weibo fans-service (粉丝服务平台) channel: GET and POST
// /hooks/weibo/<channel id> for every configured channel of type weibo, and a small client for
// the active reply and media download APIs.
//
// The protocol facts come from Weibo's open-platform wiki pages of 2014 (粉丝服务平台 接口文档);
// whether the platform still behaves exactly so is unverified, and every point where this
// package had to choose is written down here.
//
// # What a request goes through
//
// Every request, GET and POST, carries signature = sha1(sort(app_secret, timestamp, nonce)) in
// its query. The key is the App Secret of the channel's app_key (not a separate token); it is
// compared in constant time, and the timestamp — milliseconds — must lie within
// timestamp_window of the gateway's clock, checked after the signature so that unauthenticated
// callers learn nothing of the gateway's clock. The signature covers neither the body nor the
// URL: before a push reaches the Receiver its signature is remembered in the store (shared by
// every replica) with the SHA-256 of the body it first came with, until the timestamp leaves the
// window, so a captured query string carries the same push again (Weibo's retry, answered as the
// first time) and nothing else (403). A GET (the URL check) then echoes echostr. A POST body is
// read (at most 64 KiB) and parsed as one JSON object
// {"type","receiver_id","sender_id","created_at","text","data"}; receiver_id and sender_id must
// be JSON integers (a string, fraction or exponent is refused), and receiver_id must be the
// configured account_uid.
//
// # Push types
//
//	text      → Message; Text = text
//	position  → Message; Location{lat, lng, source gps} from data.latitude/data.longitude
//	            (strings or numbers); Text = "[位置]" (+ the push text, if any)
//	image     → Message; Attachment{image, MediaID = data.tovfid}; Text = "[图片]" (+ text)
//	voice     → Message; Attachment{audio, MediaID = data.tovfid}; Text = "[语音]" (+ text)
//	            tovfid is the receiver's copy, the one the account may download (Client.Download);
//	            the download is a job after the answer. data.vfid goes to metadata weibo_vfid.
//	mention   → Message with Public = true (a post or comment that @-mentions the account);
//	            data.subtype and data.key (the post or comment id) go to metadata
//	            weibo_mention_subtype and weibo_mention_id
//	event     → Event by data.subtype: follow/subscribe → EventSubscribe (Key = data.key),
//	            unfollow/unsubscribe → EventUnsubscribe, scan/scan_follow → EventScan (Key =
//	            data.key, the scene), click → EventMenuClick (Key = data.key; the reply is chosen by
//	            the shared conversation code from the channel's menu mapping), view → acknowledged
//	            without calling the Receiver
//	other     → acknowledged with an empty body, counted in intake_weibo_unknown_total
//	            {channel_id,type} (unknown event subtypes as type event:<subtype>)
//
// Citizen.WeiboUID is sender_id in decimal. OccurredAt is created_at (time.RubyDate layout,
// "Mon Jul 16 18:09:20 +0800 2012"). Raw is the body as received; PayloadHash is the hex SHA-256
// of its fields (Push.ContentHash), the data object in canonical JSON, so that a retry serialized
// differently is still the same payload.
// Whether coordinates are WGS84 or GCJ-02 is not documented; they are passed on as sent.
//
// Weibo sends no message id. ExternalID is "<sender_id>:<created_at as Unix seconds>:<16 hex
// digits of SHA-256 over type, text and data in canonical JSON>", so a retry (the same push
// again, however serialized) is the same submission, and two different messages of one citizen
// within one second are two. Events use the same id.
//
// # Answers
//
// The Receiver is called with a deadline of reply_timeout (default 3 s; Weibo gives up after 5 s).
// A Reply with text is answered with the passive reply
//
//	{"result":true,"sender_id":"<account_uid>","receiver_id":"<sender_id>","type":"text",
//	 "data":"<url-encoded UTF-8 JSON {\"text\":…}>"}
//
// with the text cut to 299 runes (Weibo: "under 300 characters"; a cut text ends in "…"). An
// empty Reply.Text, view events and unknown types are answered 200 with an empty body, which
// Weibo documents as "received, no reply" and which stops its retries.
//
//	200 echostr               GET URL check passed
//	200 passive reply JSON    Reply.Text not empty
//	200 empty body            Reply.Text empty; view; unknown type or event subtype
//	400 missing timestamp / invalid timestamp / missing nonce / missing or invalid echostr
//	400 malformed JSON (names the field whose JSON type is wrong) / data after the document /
//	    not valid UTF-8 / a member name appears twice in one object
//	400 missing type / missing or non-integer receiver_id or sender_id / invalid created_at /
//	    created_at before 2000-01-01 (pushes of every known type, events included) /
//	    empty text / invalid data.latitude/longitude / missing data.tovfid / missing
//	    data.subtype / click without data.key
//	400 invalid submission: … (the Receiver returned intake.ErrInvalid)
//	403 missing signature / invalid signature / timestamp outside the allowed window
//	403 receiver_id is not this account
//	403 request signature already used with another body (a replayed push; logged at warn)
//	404 the channel id is not configured (echo's not-found; only configured ids are routed)
//	409 push already received with a different body (intake.ErrIdempotencyConflict). Weibo has
//	    no message id: ExternalID and PayloadHash both follow the content, so in practice only a
//	    push with the same content comes under one id, and it is a retry.
//	413 request body too large (over 64 KiB)
//	503 the Receiver failed with intake.ErrUnavailable or its deadline passed; 500 any other
//	    Receiver error. Nothing was acknowledged and Weibo retries.
//
// Bodies of refusals are short plain text, never problem+json and never a quote of the input.
//
// # Settings (channels.Config.Settings)
//
//	timestamp_window  e.g. "5m" (default 5m, 10s–24h); durations need a unit
//	reply_timeout     e.g. "3s" (default 3s, at most 4.5s)
//	placeholders      map of push type (image, voice, position) to the case text used for it
//	access_token      the account's API access token; needed only by NewClient
//	api_base_url      active reply API base (default https://m.api.weibo.com)
//	upload_base_url   media download API base (default https://upload.api.weibo.com)
//	save_sender_box   bool (default true): keep active replies in the account's outbox
//	max_media_bytes   largest file Client.Download accepts (default 20 MiB)
//
// Besides them the entry has app_key (required by the config schema, unused here), app_secret
// and account_uid (the account's numeric UID). The key menu (menu key → reply name) is read by the
// shared conversation wiring, not here; other unknown top-level keys are left alone, while
// unknown keys inside the settings above are refused.
//
// # Sending
//
// Client.SendText posts an active reply (客服消息, POST /2/messages/reply.json, form type=text,
// data=urlencode(JSON {"text":…}), receiver_id, save_sender_box). Weibo allows it for 48 hours
// after the citizen's last private message, follow, subscribe, menu click or scan, once after a
// public mention, and never after an unfollow: CanReply encodes the first two, the opt-out
// recorded for unfollows the third. Client.Download fetches a tovfid. Answers with an error_code
// (also with HTTP 200) are *APIError; transport errors never contain the URL, which carries the
// access token.
//
// # Logs
//
// No uid and no message text is logged at info level: refusals log the reason label and status;
// handled pushes log at debug with logging.PseudoID of the sender.
package weibo
