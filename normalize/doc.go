// Package normalize turns a channel-neutral Submission into the canonical Case: cleaned text, a
// folded copy for matching, phone numbers in E.164, classification (operator-editable rules
// combined with the learned model of package learn), emergencies, referrals of out-of-scope
// matters, and deadlines.
//
// Everything here is pure: no I/O, no randomness, and no clock except the time passed in, so the
// same submission always yields the same case and tests need no fakes.
package normalize
