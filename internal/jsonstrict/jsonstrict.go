// Package jsonstrict finds what encoding/json silently accepts in a JSON document but a careful
// receiver must refuse: the same member name twice in one object. encoding/json keeps the last
// value, while a signature checker, a proxy or a log reader may take the first — two parties
// reading one signed body differently is how request smuggling starts. Every surface that takes
// JSON (REST, the generic webhook, Weibo, call-centre transcripts) refuses such a body with 400.
package jsonstrict

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrDuplicateKey is returned (wrapped in a *DuplicateKeyError) for a name repeated in an object.
var ErrDuplicateKey = errors.New("duplicate member name")

// DuplicateKeyError names the repeated member by its JSON path ("citizen.phone", "items[2].id").
type DuplicateKeyError struct{ Path string }

func (e *DuplicateKeyError) Error() string { return fmt.Sprintf("%v %q", ErrDuplicateKey, e.Path) }

// Unwrap makes errors.Is(err, ErrDuplicateKey) hold.
func (e *DuplicateKeyError) Unwrap() error { return ErrDuplicateKey }

// maxDepth bounds nesting, as encoding/json does (10,000), so a crafted body cannot make the
// scan's stack grow without end.
const maxDepth = 10000

// CheckDuplicateKeys scans every JSON value in data (one document, or several in a stream) and
// returns a *DuplicateKeyError for the first name that repeats within one object. Syntax errors
// are returned as encoding/json reports them; a caller that decodes afterwards may ignore them
// and let the decoder give its own, more precise message.
func CheckDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// One frame per open object or array; the path is only spelt out when a duplicate is found.
	type frame struct {
		object  bool
		names   map[string]struct{}
		index   int    // arrays: the element being read
		key     string // objects: the member whose value is being read
		wantKey bool
	}
	var stack []*frame
	pathTo := func(name string) string {
		var b []byte
		for _, f := range stack[:len(stack)-1] {
			if f.object {
				if len(b) > 0 {
					b = append(b, '.')
				}
				b = append(b, f.key...)
			} else {
				b = append(b, '[')
				b = strconv.AppendInt(b, int64(f.index), 10)
				b = append(b, ']')
			}
		}
		if len(b) > 0 {
			b = append(b, '.')
		}
		return string(append(b, name...))
	}
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.object {
			top.wantKey = true
		} else {
			top.index++
		}
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if len(stack) > 0 {
				return io.ErrUnexpectedEOF
			}
			return nil
		}
		if err != nil {
			return err
		}
		if len(stack) > 0 {
			if top := stack[len(stack)-1]; top.object && top.wantKey {
				if name, ok := tok.(string); ok {
					if _, seen := top.names[name]; seen {
						return &DuplicateKeyError{Path: pathTo(name)}
					}
					top.names[name] = struct{}{}
					top.key, top.wantKey = name, false
					continue
				}
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) >= maxDepth {
					return fmt.Errorf("json nested deeper than %d levels", maxDepth)
				}
				f := &frame{object: t == '{', wantKey: t == '{'}
				if f.object {
					f.names = map[string]struct{}{}
				}
				stack = append(stack, f)
			case '}', ']':
				stack = stack[:len(stack)-1]
				valueDone()
			}
		default:
			valueDone()
		}
	}
}
