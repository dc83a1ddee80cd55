package learn

import (
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

	// requestScale weighs the request block against the whole text (cross-validated: the
	// request counts, but half as much as everything said).
	requestScale = 0.5
)

// gramKey packs up to three runes; r1 may be 0 for shorter n-grams.
func gramKey(r1, r2, r3 rune) uint64 {
	return uint64(r1)<<(2*runeBits) | uint64(r2)<<runeBits | uint64(r3)
}

// KeyText returns the n-gram a feature key stands for, with "请求:" in front for the request
// block.
func KeyText(k uint64) string {
	var b strings.Builder
	if k&requestBit != 0 {
		b.WriteString("请求:")
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

// grams calls emit for every 1- to 3-gram key of s (runes of skipRune break n-grams) and returns
// how many it emitted.
func grams(s string, tag uint64, emit func(uint64)) int {
	var p1, p2 rune // the two previous runes, 0 when there are none
	n := 0
	for _, r := range s {
		if skipRune(r) {
			p1, p2 = 0, 0
			continue
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
		p2, p1 = p1, r
	}
	return n
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

// ShortRunes is the length up to which a text is its own request, and one look-up an n-gram.
const ShortRunes = 60

// RequestPart returns the sentences of s that carry a request cue, joined by '\n', or the last
// sentence when none does. Short texts are their own request.
func RequestPart(s string) string {
	if utf8.RuneCountInString(s) <= ShortRunes {
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
