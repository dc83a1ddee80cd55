// Package wechat is the WeChat official account (公众号) channel: GET and POST
// /hooks/wechat/<channel id> for every configured channel of type wechat.
//
// # What a request goes through
//
// Every request, GET and POST, carries signature = sha1(sort(token, timestamp, nonce)); it is
// compared in constant time, and the timestamp must lie within timestamp_window of the gateway's
// clock. A GET (the URL check) then echoes echostr. A POST is read (at most 64 KiB), parsed as
// flat <xml> with DOCTYPE and entity declarations refused before any field is read, and — when
// encrypt_type=aes or an <Encrypt> element is present — msg_signature over Encrypt is checked,
// the ciphertext decrypted (AES-256-CBC, PKCS#7 to 32, random16 | be32 length | message | AppID)
// and the AppID compared with app_id. In compatible mode (plaintext and ciphertext side by side)
// only the ciphertext is used. In safe mode plaintext-only pushes are refused. With account_id
// configured, ToUserName must be that account.
//
// A plaintext push's signature covers token, timestamp and nonce but not the body, so within the
// window a captured query string would carry any body. Before the Receiver is called, its
// signature is therefore remembered in the store (shared by every replica) with the SHA-256 of
// the body it first came with, until the timestamp leaves the window: the same signature with the
// same body is WeChat's retry and goes on (and gets the first answer), with another body it is
// refused 403. Encrypted pushes need none of this: msg_signature covers the ciphertext.
//
// Messages become an app.Message (ExternalID = MsgId) and events an app.Event (ExternalID
// = FromUserName:CreateTime:event; WeChat advises FromUserName+CreateTime, and the event name
// keeps a subscribe and the LOCATION report of the same second apart). The Receiver is called
// with a deadline of reply_timeout (default 3 s, at most 4.5 s: WeChat gives up after 5 s). A
// Reply with text is answered as a passive text reply, encrypted when the request was; an empty
// Reply.Text is answered with the plain string "success", also in safe mode.
//
// Message types: text (Content); voice (Recognition as the text, else the placeholder; MediaId
// as an audio attachment); image (MediaId, required; PicUrl kept when it is an http(s) URL);
// video and shortvideo (MediaId; ThumbMediaId in metadata); location
// (Location_X/Location_Y/Label as a GPS location, text
// "[位置] <Label>"); link (Title and Description as the text, Url as a link attachment); file
// (Title, MediaId). Messages without text of their own get a placeholder text ("[图片]",
// "[语音]", …; setting placeholders) because a case needs text. Events: subscribe (EventKey
// qrscene_<scene> → Key <scene>), unsubscribe, CLICK (Key = EventKey), SCAN (Key = scene),
// LOCATION (Latitude/Longitude → Location). VIEW is answered "success" without calling the
// Receiver: WeChat has already opened the page and there is nothing to record. Any other MsgType
// or event is answered "success" and counted in intake_wechat_unknown_total{channel_id,type}.
//
// # Answers
//
//	200 echostr               GET URL check passed
//	200 passive reply XML     Reply.Text not empty (encrypted envelope if the request was encrypted)
//	200 success               Reply.Text empty; VIEW; unknown MsgType or event
//	400 missing timestamp / invalid timestamp / missing nonce / missing or invalid echostr
//	400 empty body / malformed XML / XML declarations (DOCTYPE, ENTITY) are not allowed
//	400 missing Encrypt / encrypted message but no encoding_aes_key is configured
//	400 ciphertext does not decrypt: <bad base64 | length | padding | length prefix>
//	400 missing or invalid field (ToUserName, FromUserName, CreateTime, MsgType, MsgId, MediaId,
//	    Location_X/Y, Latitude/Longitude, Event) / empty text / empty link. MsgId must be a
//	    positive integer; voice, image, video and shortvideo need a MediaId; CreateTime before
//	    2000-01-01 is refused for messages and events alike
//	400 invalid submission: … (the Receiver returned intake.ErrInvalid)
//	403 missing signature / invalid signature / timestamp outside the allowed window
//	403 missing msg_signature / invalid msg_signature / message is for another AppID
//	403 plaintext message refused: the account is in safe mode / ToUserName is not this account
//	403 request signature already used with another body (a replayed plaintext push; logged at
//	    warn, nothing of it reaches the Receiver)
//	404 the channel id is not configured (echo's not-found; only configured ids are routed)
//	405 other methods (echo)
//	409 MsgId already used for a different message (intake.ErrIdempotencyConflict): a stored
//	    MsgId from another openid or with other content; the answer says nothing of its case
//	413 request body too large (over 64 KiB)
//	503 the Receiver failed with intake.ErrUnavailable or its deadline passed; 500 any other
//	    Receiver error. Nothing was acknowledged and WeChat retries.
//
// The checks run in the order of "What a request goes through": query authentication first (so an
// unauthenticated caller gets 403 whatever its body), then size, XML, decryption and fields.
// Bodies are short plain text, never problem+json: WeChat shows its own "该公众号暂时无法提供服务"
// to the citizen for any non-reply, and the text is for whoever reads the access log.
//
// # Settings (channels.Config.Settings)
//
//	account_id        gh_… original id (公众号原始ID). Unset: ToUserName is not checked and the
//	                  reply's FromUserName is the request's ToUserName.
//	timestamp_window  e.g. "5m" (default 5m, 10s–24h)
//	reply_timeout     e.g. "3s" (default 3s, at most 4.5s)
//	placeholders      map of message type (voice, image, video, shortvideo, location, link, file)
//	                  to the case text used when the message has none
//	api_base_url      WeChat API base URL for NewClient (default https://api.weixin.qq.com)
//
// Mode (config mode): plain, compatible or safe. Empty means compatible when encoding_aes_key is
// set, else plain. Encrypted pushes are accepted in any mode that has a key, so switching the
// console between modes never drops messages; only safe mode refuses plaintext.
//
// # Why not silenceper/wechat/v2
//
// The product's WeChat library is not imported by this package or its subpackages. Its
// Server compares signatures with ==, writes an encrypted empty envelope instead of "success" in
// safe mode and panics without a handler; its root package sets logrus to debug on import, which
// logs every decrypted message; and its API client takes its base URL and HTTP client from
// process globals. The protocol is small enough to implement on the standard library
// (wxcrypto, wxapi); the tests use silenceper's util package, which has none of those side
// effects, as a further independent implementation of the crypto. A test guards that no
// production file here imports silenceper or logrus: if one ever must, fence its globals in a
// single file (logrus.SetLevel(logrus.WarnLevel) after importing the root package).
//
// # Logs
//
// No openid and no message text is logged at info level: refusals log the reason label and
// status; handled pushes log at debug with logging.PseudoID of the openid.
package wechat
