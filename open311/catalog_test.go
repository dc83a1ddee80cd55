package open311_test

import (
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/open311"
)

// TestCatalogMistakesFailAtLoad: a catalog an operator got wrong is refused with every mistake
// named, rather than served to clients.
func TestCatalogMistakesFailAtLoad(t *testing.T) {
	if _, err := open311.ParseCatalog(configs.Open311); err != nil {
		t.Fatalf("the built-in catalog: %v", err)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"version: 2\n", "version: must be 1"},
		{"version: 1\nservices: { a: { grup: x } }\n", "field grup not found"},
		{"version: 1\nservices: { a: { attributes: [{ code: x, datatype: colour, description: d }] } }\n", `"colour" is not one of`},
		{"version: 1\nservices: { a: { attributes: [{ code: x, datatype: singlevaluelist, description: d }] } }\n", "a list datatype needs values"},
		{"version: 1\nservices: { a: { attributes: [{ code: x, datatype: string, description: d, values: [{ key: k, name: n }] }] } }\n", "only list datatypes take values"},
		{"version: 1\nservices: { a: { attributes: [{ code: 'x[y]', datatype: string, description: d }] } }\n", ".code: must be 1 to 64"},
		{"version: 1\nservices: { a: { attributes: [{ code: x, datatype: string, description: d }, { code: x, datatype: text, description: e }] } }\n", "x is defined twice"},
		{"version: 1\nservices: { a: { attributes: [{ code: x, datatype: string }] } }\n", ".description: is required"},
	} {
		_, err := open311.ParseCatalog([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.yaml, err, tc.want)
		}
	}
	c, err := open311.ParseCatalog([]byte("version: 1\nservices: { potholes: { group: 道路 } }\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open311.Services([]open311.Category{{Code: "cityscape", Name: "市容环境"}}, c); err == nil || !strings.Contains(err.Error(), "potholes are not categories") {
		t.Fatalf("a catalog entry for no category: %v", err)
	}
}
