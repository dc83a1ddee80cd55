package config

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hotline12345/intake-gateway/internal/suggest"
)

// unknownKeys walks the loaded tree against the Config struct and reports every key that no
// field reads, so that an operator's typo (server.request_timout, a top-level forwardng:) stops
// the gateway at start instead of quietly running on the default. Each report names the key as
// written (and the environment variable, when the key came from one) and suggests the nearest
// known key. The channel-specific keys of a channel entry are checked by the channel packages.
func unknownKeys(tree map[string]any, fromEnv map[string]bool) []error {
	var errs []error
	walkKnown("", tree, reflect.TypeFor[Config](), func(path, name string, known []string) {
		msg := fmt.Sprintf("%s: unknown key", path)
		if envName, ok := envNameOf(path, fromEnv); ok {
			msg = fmt.Sprintf("%s (from %s): unknown key", path, envName)
		}
		if s := nearest(name, known); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", strings.TrimSuffix(path, name)+s)
		}
		errs = append(errs, fmt.Errorf("%s", msg))
	})
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errs
}

var durationType = reflect.TypeFor[time.Duration]()

// walkKnown visits value as typ; report is called for keys of a struct that has no field for them.
func walkKnown(path string, value any, typ reflect.Type, report func(path, name string, known []string)) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.Kind() {
	case reflect.Struct:
		if typ == durationType {
			return
		}
		m, ok := value.(map[string]any)
		if !ok {
			return // a type error; validation or unmarshalling reports it
		}
		fields := map[string]reflect.Type{}
		remain := false
		var collect func(t reflect.Type)
		collect = func(t reflect.Type) {
			for i := range t.NumField() {
				f := t.Field(i)
				name, opts, _ := strings.Cut(f.Tag.Get("koanf"), ",")
				switch {
				case opts == "remain":
					remain = true
				case opts == "squash" && f.Type.Kind() == reflect.Struct:
					collect(f.Type) // an embedded section's keys sit at this level
				case name != "" && name != "-":
					fields[name] = f.Type
				}
			}
		}
		collect(typ)
		known := make([]string, 0, len(fields))
		for name := range fields {
			known = append(known, name)
		}
		slices.Sort(known)
		for key, child := range m {
			p := key
			if path != "" {
				p = path + "." + key
			}
			ft, ok := fields[key]
			if !ok {
				if !remain {
					report(p, key, known)
				}
				continue
			}
			walkKnown(p, child, ft, report)
		}
	case reflect.Slice, reflect.Array:
		items, ok := value.([]any)
		if !ok {
			return
		}
		for i, item := range items {
			walkKnown(fmt.Sprintf("%s[%d]", path, i), item, typ.Elem(), report)
		}
	case reflect.Map:
		m, ok := value.(map[string]any)
		if !ok {
			return
		}
		for key, child := range m {
			walkKnown(path+"."+key, child, typ.Elem(), report)
		}
	}
}

// envNameOf gives the INTAKE_ variable a dotted key came from, when it did.
func envNameOf(path string, fromEnv map[string]bool) (string, bool) {
	if !fromEnv[path] {
		return "", false
	}
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "__")), true
}

func nearest(name string, candidates []string) string { return suggest.Nearest(name, candidates) }
