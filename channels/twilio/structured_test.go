package twilio_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/hotline12345/intake-gateway/channels/twilio"
)

func TestParseStructured(t *testing.T) {
	cases := []struct {
		in   string
		ok   bool
		want twilio.Structured
	}{
		{"12345#李女士#环翠区#路灯坏了", true, twilio.Structured{"李女士", "环翠区", "路灯坏了"}},
		{"12345＃王先生＃文登区米山路8号＃楼下饭店油烟扰民", true, twilio.Structured{"王先生", "文登区米山路8号", "楼下饭店油烟扰民"}},
		{"１２３４５＃张三#高区#噪音", true, twilio.Structured{"张三", "高区", "噪音"}},
		{" 12345 # 李女士 # 环翠区 # 路灯坏了，电线杆#3号 \n", true, twilio.Structured{"李女士", "环翠区", "路灯坏了，电线杆#3号"}},
		{"12345###匿名反映：小区垃圾无人清运", true, twilio.Structured{"", "", "匿名反映：小区垃圾无人清运"}},
		{"12345#李女士#环翠区#", false, twilio.Structured{}},
		{"12345#李女士#环翠区#   ", false, twilio.Structured{}},
		{"12345#李女士#路灯坏了", false, twilio.Structured{}},
		{"12346#李女士#环翠区#路灯坏了", false, twilio.Structured{}},
		{"请问12345#李女士#环翠区#路灯坏了", false, twilio.Structured{}},
		{"路灯坏了", false, twilio.Structured{}},
		{"", false, twilio.Structured{}},
		{"12345#" + strings.Repeat("长", 51) + "#环翠区#路灯坏了", false, twilio.Structured{}},
	}
	for _, c := range cases {
		got, ok := twilio.ParseStructured(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("ParseStructured(%q) = %+v, %v; want %+v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func FuzzParseStructured(f *testing.F) {
	for _, s := range []string{"12345#李女士#环翠区#路灯坏了", "12345＃王先生＃文登区＃油烟", "１２３４５＃#＃x", "12345#a#b#c#d#e", "12345", "#", "12345#\xff#\xfe#\xfd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, ok := twilio.ParseStructured(in)
		if !ok {
			if s != (twilio.Structured{}) {
				t.Fatalf("not structured but fields set: %+v", s)
			}
			return
		}
		if s.Content == "" {
			t.Fatal("structured with empty content")
		}
		for _, field := range []string{s.Name, s.Address, s.Content} {
			if strings.TrimFunc(field, unicode.IsSpace) != field {
				t.Fatalf("field %q not trimmed", field)
			}
			if !strings.Contains(in, field) {
				t.Fatalf("field %q not from the input %q", field, in)
			}
		}
		if strings.ContainsAny(s.Name, "#＃") || strings.ContainsAny(s.Address, "#＃") {
			t.Fatalf("separator inside name or address: %+v", s)
		}
		if utf8.RuneCountInString(s.Name) > 50 {
			t.Fatalf("name too long: %q", s.Name)
		}
		if utf8.ValidString(in) && !(utf8.ValidString(s.Name) && utf8.ValidString(s.Address) && utf8.ValidString(s.Content)) {
			t.Fatal("valid input split into invalid UTF-8")
		}
	})
}
