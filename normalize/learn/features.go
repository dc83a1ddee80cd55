package learn

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Features are computed from text already folded by normalize.MatchText (simplified, half-width,
// lower case, no emoji). Two blocks of character n-grams (1 to 3 runes) are taken:
//
//   - the whole text;
//   - the request: the sentences that ask for something (诉求, 希望, 要求, 请, …, or a question),
//     so that a long letter's background does not drown what the writer actually wants.
//
// Each block's counts are divided by the square root of the block's n-gram total, so that a
// letter of 1,000 characters and a message of 30 give scores of the same scale. Hints (named
// facts found by the rules, such as "rule:emergency:fire") are binary features of their own.
//
// An n-gram key packs its runes into 21 bits each (r1<<42 | r2<<21 | r3, shorter n-grams have
// leading zeros; no folded text contains U+0000), and bit 63 tells the request block from the
// whole-text block. Keys are therefore exact and can be turned back into text for evidence.
const (
	runeBits   = 21
	runeMask   = 1<<runeBits - 1
	requestBit = uint64(1) << 63

	// extraBit marks the keys of n-grams other than the contiguous 1- to 3-grams. A 3-gram key
	// reaches bit 62 only when its first rune is U+100000 or above (supplementary private use),
	// which folded text does not hold in practice.
	extraBit = uint64(1) << 62
	// fourBit, with extraBit, marks a hashed 4-gram (TrainOptions.FourGrams): four runes do not
	// fit 63 bits, so the key is a 61-bit hash of them. Without it, extraBit marks a skip-bigram
	// (TrainOptions.SkipGrams): two runes with one between, packed like a bigram.
	fourBit  = uint64(1) << 61
	hashMask = fourBit - 1

	// requestScale weighs the request block against the whole text (cross-validated: the
	// request counts, but half as much as everything said).
	requestScale = 0.5
)

// gramKey packs up to three runes; r1 may be 0 for shorter n-grams.
func gramKey(r1, r2, r3 rune) uint64 {
	return uint64(r1)<<(2*runeBits) | uint64(r2)<<runeBits | uint64(r3)
}

// fourKey is the key of the 4-gram r0 r1 r2 r3: a hash, since four runes do not fit.
func fourKey(r0, r1, r2, r3 rune) uint64 {
	h := gramKey(r1, r2, r3) ^ uint64(r0)*0x9e3779b97f4a7c15
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 31
	return extraBit | fourBit | h&hashMask
}

// skipKey is the key of the skip-bigram r1 _ r3.
func skipKey(r1, r3 rune) uint64 { return extraBit | gramKey(0, r1, r3) }

// KeyText returns the n-gram a feature key stands for, with "请求:" in front for the request
// block. A hashed 4-gram cannot be turned back into text: it reads "4-gram#" and its hash. A
// skip-bigram reads with '_' for the rune skipped.
func KeyText(k uint64) string {
	var b strings.Builder
	if k&requestBit != 0 {
		b.WriteString("请求:")
	}
	switch {
	case k&extraBit != 0 && k&fourBit != 0:
		// strconv, not fmt, keeps b on the stack for the common n-grams (KeyText names evidence).
		b.WriteString("4-gram#")
		b.WriteString(strconv.FormatUint(k&hashMask, 16))
		return b.String()
	case k&extraBit != 0:
		b.WriteRune(rune(k >> runeBits & runeMask))
		b.WriteRune('_')
		b.WriteRune(rune(k & runeMask))
		return b.String()
	}
	for shift := 2 * runeBits; shift >= 0; shift -= runeBits {
		if r := rune(k >> shift & runeMask); r != 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// skipRune reports runes that start no n-gram: white space carries no meaning after folding.
func skipRune(r rune) bool { return r == ' ' || r == '\n' || r == '\t' }

// grams calls emit for every 1- to 3-gram key of s (runes of skipRune break n-grams), every
// 4-gram key when four is set and every skip-bigram key when skip is, and returns how many 1- to
// 3-grams it emitted.
func grams(s string, tag uint64, four, skip bool, emit func(uint64)) int {
	var p1, p2, p3 rune // the three previous runes, 0 when there are none
	n := 0
	for _, r := range s {
		if skipRune(r) {
			p1, p2, p3 = 0, 0, 0
			continue
		}
		if four && p3 != 0 {
			emit(tag | fourKey(p3, p2, p1, r))
		}
		if skip && p2 != 0 {
			emit(tag | skipKey(p2, r))
		}
		emit(tag | gramKey(0, 0, r))
		n++
		if p1 != 0 {
			emit(tag | gramKey(0, p1, r))
			n++
			if p2 != 0 {
				emit(tag | gramKey(p2, p1, r))
				n++
			}
		}
		p3, p2, p1 = p2, p1, r
	}
	return n
}

// ShapeFold returns s with every ASCII digit replaced by '0' and every latin letter by 'a'
// (TrainOptions.ShapeFold): a phone number, a date or a plate then gives the same n-grams
// whatever its value, so that the model learns "a number follows 电话" and not the number.
// Runes are replaced one for one, so the text keeps its length in runes.
func ShapeFold(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9':
			return '0'
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			return 'a'
		}
		return r
	}, s)
}

// longNumber is the length from which a run of digits is a number to NumberFold.
const longNumber = 6

// NumberFold returns s with every run of longNumber or more ASCII digits replaced by a single
// '#' (TrainOptions.NumberFold): phone numbers, identity and order numbers say nothing by their
// value, while short ones (110, 120, 12345, a floor, a year) keep theirs.
func NumberFold(s string) string {
	var b strings.Builder
	digits := 0 // length of the run of digits just before i
	flush := func(i int) {
		if digits >= longNumber {
			b.WriteByte('#')
		} else {
			b.WriteString(s[i-digits : i])
		}
		digits = 0
	}
	for i, r := range s {
		if r >= '0' && r <= '9' {
			digits++
			continue
		}
		flush(i)
		b.WriteRune(r)
	}
	flush(len(s))
	return b.String()
}

// requestCues mark a sentence in which the writer asks for something. Matched on folded text.
var requestCues = []string{
	"诉求", "希望", "要求", "请求", "恳请", "恳求", "请问", "请", "能否", "能不能", "可否", "可不可以", "是否",
	"盼", "望", "呼吁", "建议", "帮忙", "帮助", "帮我", "求助", "投诉", "举报", "咨询", "想问", "反映",
	"怎么办", "怎么", "如何", "哪里", "找谁", "?", "吗",
}

// sentenceEnd reports runes that end a sentence of folded text.
func sentenceEnd(r rune) bool {
	switch r {
	case '。', '!', '?', ';', '\n':
		return true
	}
	return false
}

// shortRunes is the length up to which a text is its own request.
const shortRunes = 60

// RequestPart returns the sentences of s that carry a request cue, joined by '\n', or the last
// sentence when none does. Short texts are their own request.
func RequestPart(s string) string {
	if utf8.RuneCountInString(s) <= shortRunes {
		return s
	}
	var parts []string
	last := ""
	start := 0
	flush := func(end int) {
		sent := strings.TrimSpace(s[start:end])
		start = end
		if sent == "" {
			return
		}
		last = sent
		for _, c := range requestCues {
			if strings.Contains(sent, c) {
				parts = append(parts, sent)
				return
			}
		}
	}
	for i, r := range s {
		if sentenceEnd(r) {
			flush(i + utf8.RuneLen(r))
		}
	}
	flush(len(s))
	if len(parts) == 0 {
		return last
	}
	return strings.Join(parts, "\n")
}

// RequestWithLead is RequestPart with the opening of a long text in front (TrainOptions.Lead):
// the sentences that end within its first shortRunes runes (or those runes, when no sentence
// ends within them).
// A caller often says what they want first and explains after, with no cue word.
func RequestWithLead(s string) string {
	req := RequestPart(s)
	if req == s {
		return s
	}
	lead, n, cut := s, 0, -1
	for i, r := range s {
		if n == shortRunes {
			lead = s[:i]
			break
		}
		n++
		if sentenceEnd(r) {
			cut = i + utf8.RuneLen(r)
		}
	}
	if cut > 0 {
		lead = s[:cut]
	}
	lead = strings.TrimSpace(lead)
	// Request sentences within the opening are not counted twice.
	parts := []string{lead}
	for _, sent := range strings.Split(req, "\n") {
		if !strings.Contains(lead, sent) {
			parts = append(parts, sent)
		}
	}
	return strings.Join(parts, "\n")
}
