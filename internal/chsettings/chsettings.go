// Package chsettings decodes the channel-specific keys of a channel's config entry
// (channels.Config.Settings) into a channel package's own struct, and reports every problem with
// its key path, so that each one reads channels[<id>].<key> like every other config error.
package chsettings

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

// Problem is one setting that could not be decoded: its key path ("signature.header") and what
// is wrong with it.
type Problem struct {
	Key, Message string
}

// Decode decodes the keys of m listed in own into out (a pointer to a struct with mapstructure
// tags). Other top-level keys belong to someone else and are left alone; unknown keys nested
// under an own key are typos and reported. Durations must be written with a unit ("5m", "3s"):
// a bare number would be read as nanoseconds, never what an operator means. The result is nil
// when everything decoded.
func Decode(m map[string]any, own []string, out any) []Problem {
	mine := map[string]any{}
	for k, v := range m {
		if slices.Contains(own, k) {
			mine[k] = v
		}
	}
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		DecodeHook:  mapstructure.ComposeDecodeHookFunc(durationHook, fromEnvironmentHook),
		ErrorUnused: true,
		Result:      out,
	})
	if err != nil {
		return []Problem{{Key: "settings", Message: err.Error()}}
	}
	if err := dec.Decode(mine); err != nil {
		return problems(err)
	}
	return nil
}

var durationType = reflect.TypeFor[time.Duration]()

func durationHook(_, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	switch v := data.(type) {
	case time.Duration:
		return v, nil
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("must be a duration such as 5m or 3s, got %q", v)
		}
		return d, nil
	}
	return nil, fmt.Errorf("must be a duration with a unit such as 5m or 3s, got %v", data)
}

// fromEnvironmentHook reads booleans and numbers written as strings: an environment override
// (INTAKE_CHANNELS__0__REPLY=false) always arrives as one.
func fromEnvironmentHook(from, to reflect.Type, data any) (any, error) {
	str, ok := data.(string)
	if !ok || from.Kind() != reflect.String {
		return data, nil
	}
	str = strings.TrimSpace(str)
	switch to.Kind() {
	case reflect.Bool:
		b, err := strconv.ParseBool(str)
		if err != nil {
			return nil, fmt.Errorf("must be true or false, got %q", str)
		}
		return b, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if to == durationType {
			return data, nil
		}
		n, err := strconv.ParseInt(str, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("must be a whole number, got %q", str)
		}
		return n, nil
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("must be a number, got %q", str)
		}
		return f, nil
	}
	return data, nil
}

// problems flattens mapstructure's error tree into one Problem per innermost DecodeError.
func problems(err error) []Problem {
	var out []Problem
	var walk func(error)
	walk = func(err error) {
		if de, ok := err.(*mapstructure.DecodeError); ok && !hasDecodeError(de.Unwrap()) {
			out = append(out, Problem{Key: keyPath(de.Name()), Message: describe(de.Unwrap())})
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	if len(out) == 0 {
		out = append(out, Problem{Key: "settings", Message: err.Error()})
	}
	return out
}

func hasDecodeError(err error) bool {
	var de *mapstructure.DecodeError
	return err != nil && errors.As(err, &de)
}

// keyPath turns mapstructure's "fields.metadata[k]" into the YAML path "fields.metadata.k".
func keyPath(name string) string {
	name = strings.ReplaceAll(name, "[", ".")
	return strings.ReplaceAll(name, "]", "")
}

func describe(err error) string {
	var ue *mapstructure.UnconvertibleTypeError
	if errors.As(err, &ue) {
		return fmt.Sprintf("must be a %s, got %v", ue.Expected.Type(), ue.Value)
	}
	if msg := err.Error(); strings.HasPrefix(msg, "has invalid keys: ") {
		return "unknown key(s): " + strings.TrimPrefix(msg, "has invalid keys: ")
	}
	return err.Error()
}
