package normalize

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"unicode"
)

// Similarity is the character-bigram Dice coefficient of a and b, in [0,1], used to recognise a
// repeated request (并单). Both texts are folded with MatchText and reduced to their Han
// characters, letters and digits (punctuation, spaces and emoji do not count, so "路灯坏了！！"
// and "路灯坏了" are identical), then cut into overlapping pairs of characters. The result is
//
//	2·|A ∩ B| / (|A| + |B|)
//
// over the multisets of bigrams A and B (Dice, not Jaccard: Dice weighs the shared part against
// the average length, which suits a short follow-up of a longer first message better). A text
// of a single character is its own unigram. It is 0 when either text has nothing to compare
// (two empty texts, e.g. two photos, are not "the same request"). Typical values: the same
// complaint re-sent with a few words changed 0.6–0.9, unrelated requests below 0.2.
func Similarity(a, b string) float64 {
	return SimilarityKey(a).Similarity(SimilarityKey(b))
}

// Key is the sorted multiset of a text's character bigrams, the part of Similarity that depends
// on one text only: code comparing one text with many (hot-topic clustering compares every
// recent case with its neighbours) computes it once per text instead of once per pair.
type Key []uint64

// SimilarityKey returns the Key of s: Similarity(a, b) == SimilarityKey(a).Similarity(SimilarityKey(b)).
func SimilarityKey(s string) Key {
	x := bigrams(s)
	slices.Sort(x)
	return x
}

// Empty reports whether the text had nothing to compare (no Han, letter or digit).
func (x Key) Empty() bool { return len(x) == 0 }

// Similarity is the Dice coefficient of the two keys' bigram multisets (see Similarity).
func (x Key) Similarity(y Key) float64 {
	if len(x) == 0 || len(y) == 0 {
		return 0
	}
	common := 0
	for i, j := 0, 0; i < len(x) && j < len(y); {
		switch {
		case x[i] == y[j]:
			common++
			i++
			j++
		case x[i] < y[j]:
			i++
		default:
			j++
		}
	}
	return 2 * float64(common) / float64(len(x)+len(y))
}

// Fingerprint is a short stable key of a text's content for exact-duplicate lookups: the first
// 16 hex digits of SHA-256 over the same reduced form Similarity compares (folded; Han, letters
// and digits only). Texts that differ only in punctuation, spacing, emoji, width, case or
// traditional/simplified script have the same fingerprint. Empty content gives "".
func Fingerprint(s string) string {
	k := keyRunes(s)
	if len(k) == 0 {
		return ""
	}
	sum := sha256.Sum256([]byte(string(k)))
	return hex.EncodeToString(sum[:8])
}

// keyRunes is MatchText(s) without punctuation, symbols and spaces.
func keyRunes(s string) []rune {
	m := MatchText(s)
	out := make([]rune, 0, len(m)/2)
	for _, r := range m {
		if unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Han, r) {
			out = append(out, r)
		}
	}
	return out
}

func bigrams(s string) []uint64 {
	k := keyRunes(s)
	switch len(k) {
	case 0:
		return nil
	case 1:
		return []uint64{uint64(k[0])}
	}
	out := make([]uint64, len(k)-1)
	for i := range out {
		out[i] = uint64(k[i])<<32 | uint64(k[i+1])
	}
	return out
}
