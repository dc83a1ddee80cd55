// Package t2s converts traditional Chinese characters to simplified ones for matching.
//
// It does what OpenCC's "t2s" configuration does: a longest-match lookup in OpenCC's phrase table
// (TSPhrases.txt) and, where no phrase matches, a character lookup (TSCharacters.txt). Only
// OpenCC's Apache-2.0 dictionary data is used, embedded from data/ with its licence and NOTICE;
// the Go OpenCC ports are avoided on purpose because they link GPL-2.0 code.
//
// The conversion is meant for matching, not for display: it maps every Han character to exactly
// one Han character (the tables are length-preserving, which a test checks), leaves everything
// else alone, and is idempotent (Convert(Convert(s)) == Convert(s)), because a pass is repeated
// until nothing changes (OpenCC's tables contain a few chains such as 薴→苧→苎).
package t2s

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

//go:embed data/TSCharacters.txt
var tsCharacters []byte

//go:embed data/TSPhrases.txt
var tsPhrases []byte

// maxPasses bounds the repeat-until-stable loop; two passes are enough for OpenCC 1.4 data.
const maxPasses = 4

// Converter is an immutable traditional→simplified table. It is safe for concurrent use.
type Converter struct {
	chars     map[rune]rune
	phrases   map[string]string
	maxPhrase int      // longest phrase key, in runes
	candidate []uint64 // bitset over runes: a character key or the first rune of a phrase key
	phraseAt  []uint64 // bitset over runes: the first rune of a phrase key
	trigger   []uint64 // bitset over runes: text without any of these is left as it is
}

// New builds a converter from OpenCC dictionary files ("key<TAB>value[ value…]" lines, '#'
// comments). Where a key has several values the first, OpenCC's preferred one, is used.
//
// Two kinds of phrase entries are left out, because the input here is mostly simplified text
// and the output is used for matching: entries that change nothing and contain no character
// key (no-ops), and entries that would rewrite a character that is itself a simplified form
// (OpenCC maps 打坏→打坯 and 沈默→沉默, but in simplified text 坏 means "broken" and must stay).
func New(characters, phrases []byte) (*Converter, error) {
	words := (utf8.MaxRune+1)/64 + 1
	c := &Converter{
		chars:     make(map[rune]rune, 4200),
		phrases:   make(map[string]string, 500),
		candidate: make([]uint64, words),
		phraseAt:  make([]uint64, words),
		trigger:   make([]uint64, words),
	}
	simplified := make(map[rune]bool, 3000) // values of the character table
	err := parse(characters, func(line int, k, v string) error {
		kr, kn := utf8.DecodeRuneInString(k)
		vr, vn := utf8.DecodeRuneInString(v)
		if kn != len(k) || vn != len(v) || kr == utf8.RuneError || vr == utf8.RuneError {
			return fmt.Errorf("characters line %d: key and value must be one character each", line)
		}
		if kr != vr {
			c.chars[kr] = vr
			simplified[vr] = true
			set(c.candidate, kr)
			set(c.trigger, kr)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = parse(phrases, func(line int, k, v string) error {
		kr, vr := []rune(k), []rune(v)
		if len(kr) < 2 || len(kr) != len(vr) {
			return fmt.Errorf("phrases line %d: key and value must have the same length of at least 2 characters", line)
		}
		useful := false
		for i := range kr {
			_, isKey := c.chars[kr[i]]
			switch {
			case kr[i] != vr[i] && simplified[kr[i]] && !isKey:
				return nil // rewrites simplified text: skip the entry
			case kr[i] != vr[i] || isKey:
				useful = true
			}
		}
		if !useful {
			return nil
		}
		for i := range kr {
			if kr[i] != vr[i] {
				set(c.trigger, kr[i])
			}
		}
		c.phrases[k] = v
		set(c.candidate, kr[0])
		set(c.phraseAt, kr[0])
		c.maxPhrase = max(c.maxPhrase, len(kr))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func parse(data []byte, fn func(line int, key, value string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, values, ok := strings.Cut(line, "\t")
		value, _, _ := strings.Cut(values, " ")
		if !ok || key == "" || value == "" || !utf8.ValidString(line) {
			return fmt.Errorf("line %d: want \"key<TAB>value\"", n)
		}
		if err := fn(n, key, value); err != nil {
			return err
		}
	}
	return sc.Err()
}

func set(bits []uint64, r rune)         { bits[r>>6] |= 1 << (uint(r) & 63) }
func has(bits []uint64, r rune) bool    { return r >= 0 && bits[r>>6]&(1<<(uint(r)&63)) != 0 }
func (c *Converter) isCand(r rune) bool { return has(c.candidate, r) }

var defaultConverter = sync.OnceValue(func() *Converter {
	c, err := New(tsCharacters, tsPhrases)
	if err != nil {
		// The embedded data is fixed at build time and checked by the tests.
		panic("t2s: embedded OpenCC data: " + err.Error())
	}
	return c
})

// Default returns the converter built from the embedded OpenCC data (built once, on first use).
func Default() *Converter { return defaultConverter() }

// Convert converts s with the embedded OpenCC data.
func Convert(s string) string { return Default().Convert(s) }

// Convert returns s with traditional characters replaced by simplified ones. Text without any
// convertible character is returned as is, without allocating.
func (c *Converter) Convert(s string) string {
	if !c.mayChange(s) {
		return s
	}
	for range maxPasses {
		out, changed := c.pass(s)
		if !changed {
			return s
		}
		s = out
	}
	return s
}

// mayChange reports whether s contains a rune that some table entry changes. Every kept phrase
// contains such a rune or a character key, so text without any is already simplified.
func (c *Converter) mayChange(s string) bool {
	for _, r := range s {
		if has(c.trigger, r) {
			return true
		}
	}
	return false
}

// pass does one left-to-right longest-match pass. The output is built lazily, from the first
// change on, so that text with nothing to convert costs no allocation.
func (c *Converter) pass(s string) (string, bool) {
	var b strings.Builder
	copied := 0 // s[:copied] is already in b (once b is in use)
	replace := func(i, j int, v string) {
		if b.Cap() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[copied:i])
		b.WriteString(v)
		copied = j
	}
	var ends [32]int // byte offsets after 1..maxPhrase runes from i
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !c.isCand(r) {
			i += size
			continue
		}
		if has(c.phraseAt, r) {
			n := 0
			for j := i; j < len(s) && n < c.maxPhrase && n < len(ends); n++ {
				_, sz := utf8.DecodeRuneInString(s[j:])
				j += sz
				ends[n] = j
			}
			matched := false
			for k := n - 1; k >= 1; k-- { // k+1 runes, longest first
				if v, ok := c.phrases[s[i:ends[k]]]; ok {
					if v != s[i:ends[k]] {
						replace(i, ends[k], v)
					}
					i = ends[k]
					matched = true
					break
				}
			}
			if matched {
				continue
			}
		}
		if v, ok := c.chars[r]; ok {
			replace(i, i+size, string(v))
		}
		i += size
	}
	if b.Cap() == 0 {
		return s, false
	}
	b.WriteString(s[copied:])
	return b.String(), true
}
