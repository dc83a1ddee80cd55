package t2s

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestConvert(t *testing.T) {
	tests := []struct{ in, want string }{
		{"我們的路燈壞了", "我们的路灯坏了"},
		{"來旅遊在經區一家海鮮酒樓吃飯", "来旅游在经区一家海鲜酒楼吃饭"},
		{"請問台灣居民在這邊想開一間小咖啡館，營業執照要怎麼辦？", "请问台湾居民在这边想开一间小咖啡馆，营业执照要怎么办？"},
		{"噪音擾民", "噪音扰民"},
		{"醫生護士都非常耐心", "医生护士都非常耐心"},
		// Phrase table wins over characters: 瞭 alone is 了 but 瞭望 keeps 瞭.
		{"一目瞭然", "一目了然"},
		{"瞭望塔", "瞭望塔"},
		// Already simplified, Latin, digits and emoji pass through untouched.
		{"燃气费怎么突然这么高？", "燃气费怎么突然这么高？"},
		{"ABC 123 😀", "ABC 123 😀"},
		{"", ""},
		// Entries that would rewrite simplified text are left out (OpenCC: 打坏→打坯).
		{"门被打坏了", "门被打坏了"},
		{"迴覆", "回复"},
		// A chain in the data (薴→苧→苎) is followed to its end.
		{"薴", "苎"},
	}
	for _, tt := range tests {
		if got := Convert(tt.in); got != tt.want {
			t.Errorf("Convert(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestConvertNoAllocForSimplified(t *testing.T) {
	s := "楼下广场舞每天晚上放到快十点，音响开到最大"
	Convert(s) // build the table
	if n := testing.AllocsPerRun(100, func() { _ = Convert(s) }); n != 0 {
		t.Errorf("Convert of simplified text allocated %v times, want 0", n)
	}
}

// TestTablesPreserveHan checks what MatchText relies on: every key and value of the embedded
// tables is Han, and each maps to a string of the same number of runes.
func TestTablesPreserveHan(t *testing.T) {
	c := Default()
	if len(c.chars) < 3000 || len(c.phrases) < 300 {
		t.Fatalf("tables look truncated: %d characters, %d phrases", len(c.chars), len(c.phrases))
	}
	for k, v := range c.chars {
		if !unicode.Is(unicode.Han, k) || !unicode.Is(unicode.Han, v) {
			t.Errorf("character entry %q→%q is not Han→Han", k, v)
		}
	}
	for k, v := range c.phrases {
		if utf8.RuneCountInString(k) != utf8.RuneCountInString(v) {
			t.Errorf("phrase %q→%q changes length", k, v)
		}
	}
}

func TestConvertIdempotentOverTable(t *testing.T) {
	c := Default()
	var all strings.Builder
	for k := range c.chars {
		all.WriteRune(k)
	}
	for k := range c.phrases {
		all.WriteString(k)
	}
	once := c.Convert(all.String())
	if twice := c.Convert(once); twice != once {
		t.Error("Convert is not idempotent over the concatenated table keys")
	}
	if utf8.RuneCountInString(once) != utf8.RuneCountInString(all.String()) {
		t.Error("Convert changed the number of runes")
	}
}

func TestNewRejectsMalformed(t *testing.T) {
	tests := []struct {
		name          string
		chars, phrase string
	}{
		{"no tab", "臺台\n", ""},
		{"two-rune character key", "臺灣\t台湾\n", ""},
		{"phrase length mismatch", "", "臺灣\t台\n"},
		{"one-rune phrase", "", "臺\t台\n"},
	}
	for _, tt := range tests {
		if _, err := New([]byte(tt.chars), []byte(tt.phrase)); err == nil {
			t.Errorf("%s: New accepted malformed data", tt.name)
		}
	}
	c, err := New([]byte("# comment\n\n臺\t台 臺\n"), []byte("臺灣\t台湾\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Convert("臺北臺灣"); got != "台北台湾" {
		t.Errorf("custom table: got %q", got)
	}
}

func FuzzConvert(f *testing.F) {
	for _, s := range []string{"我們的路燈壞了", "一目瞭然", "瞭望", "薴", "abc", "\xff臺", "乾坤一擲"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := Convert(s)
		if Convert(once) != once {
			t.Fatalf("not idempotent: %q → %q → %q", s, once, Convert(once))
		}
		if utf8.ValidString(s) && utf8.RuneCountInString(once) != utf8.RuneCountInString(s) {
			t.Fatalf("rune count changed: %q → %q", s, once)
		}
	})
}

func BenchmarkConvertSimplified(b *testing.B) {
	s := strings.Repeat("市民来电反映：其所居住的小区原物业公司合同到期，", 10)
	Convert(s)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		_ = Convert(s)
	}
}

func BenchmarkConvertTraditional(b *testing.B) {
	s := strings.Repeat("來旅遊在經區一家海鮮酒樓吃飯，點了一隻龍蝦說380一斤，", 10)
	Convert(s)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		_ = Convert(s)
	}
}
