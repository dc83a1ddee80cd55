// Package app is the gateway's application core: the use cases every surface calls, written
// once, so that a WeChat message, an SMS, a REST submission and a case-system callback are all
// decided by the same rules.
//
//   - Submit (Intake): a channel-neutral submission becomes a durably stored case — normalized
//     and classified, numbered, validated, linked to an earlier repeated request, stored with its
//     forwarding job in one transaction.
//   - Receive a message, handle a platform event (Conversation): a platform's retry, a status
//     query by case number and query code (with look-up lockouts), an SMS opt-out, a satisfaction
//     answer, a supplement to the citizen's open case, or a new case.
//   - Report a status event (StatusEvents): a case system's event and the notifications it gives
//     the citizen, recorded in one transaction.
//
// The core knows no platform and no HTTP: channels parse requests into a Message or an Event and
// write its Reply in their own format; the REST API maps results to problem documents. It reaches
// storage only through the role interfaces it declares (IntakeStore, ConversationStore,
// StatusStore), which both stores satisfy.
package app
