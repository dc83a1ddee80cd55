// Package normalize turns a channel-neutral Submission into the canonical Case: cleaned text, a
// folded copy for matching, phone numbers in E.164, and (in later cuts) classification,
// emergencies and deadlines.
//
// Everything here is pure: no I/O, no randomness, and no clock except the time passed in, so the
// same submission always yields the same case and tests need no fakes.
package normalize
