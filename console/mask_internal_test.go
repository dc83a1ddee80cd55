package console

import "testing"

func TestMasking(t *testing.T) {
	cases := []struct {
		name, got, want string
	}{
		{"name", maskName("王女士"), "王**"},
		{"one-character name", maskName("王"), "王*"},
		{"openid", maskID("oAbCdEfGhIjKlMn"), "oAbC****"},
		{"short id", maskID("12345"), "****"},
		{"address", maskAddress("环翠区文化路12号3单元"), "环翠区文***"},
		{"long address keeps at most six", maskAddress("山东省威海市环翠区文化路12号3单元502室"), "山东省威海市***"},
		{"phone in text", maskText("我的电话13912345678，谢谢"), "我的电话139****5678，谢谢"},
		{"spaced phone", maskText("电话 139 1234 5678"), "电话 139****5678"},
		{"hyphenated phone", maskText("电话139-1234-5678"), "电话139****5678"},
		{"identity number", maskText("身份证37100219900101123X"), "身份证371***********123X"},
		{"date stays", maskText("2026-12-05停水"), "2026-12-05停水"},
		{"short numbers stay", maskText("3880块，12号楼"), "3880块，12号楼"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}
