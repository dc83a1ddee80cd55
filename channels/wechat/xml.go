package wechat

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// fields are the top-level elements of a WeChat XML document (<xml><Tag>value</Tag>…</xml>) by
// tag name. Every push, encrypted envelope and decrypted message has this flat shape; the few
// events with nested elements (scancode_push, pic_*) are not read by this package, so nested
// content is skipped rather than modelled.
type fields map[string]string

// errXMLDirective is a DOCTYPE, ENTITY or other <!…> declaration. WeChat never sends one; it can
// only be an attempt at entity expansion or external entities, so it is refused before any
// field is read.
var errXMLDirective = errors.New("XML declarations (DOCTYPE, ENTITY) are not allowed")

// parseFields reads doc in one pass of the strict tokenizer (which also checks that end tags
// match): a single <xml> root, its children's character data (CDATA included), nothing but
// whitespace and comments around it, and no directives or processing instructions other than the
// XML declaration. Encodings other than UTF-8 are refused (no CharsetReader).
func parseFields(doc []byte) (fields, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	f := make(fields, 12)
	var (
		depth    int
		rootSeen bool
		cur      string
		val      []byte
		nTokens  int
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("malformed XML: %w", err)
		}
		nTokens++
		switch t := tok.(type) {
		case xml.Directive:
			return nil, errXMLDirective
		case xml.ProcInst:
			// The tokenizer itself refuses a declared encoding other than UTF-8.
			if t.Target != "xml" || nTokens != 1 {
				return nil, errors.New("malformed XML: unexpected processing instruction")
			}
		case xml.StartElement:
			depth++
			switch depth {
			case 1:
				if rootSeen {
					return nil, errors.New("malformed XML: more than one root element")
				}
				if t.Name.Space != "" || t.Name.Local != "xml" {
					return nil, errors.New("malformed XML: root element must be <xml>")
				}
				rootSeen = true
			case 2:
				if _, dup := f[t.Name.Local]; dup {
					return nil, fmt.Errorf("malformed XML: element <%s> appears twice", t.Name.Local)
				}
				cur, val = t.Name.Local, val[:0]
			}
		case xml.EndElement:
			if depth == 2 {
				f[cur] = string(val)
			}
			depth--
		case xml.CharData:
			switch depth {
			case 0:
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, errors.New("malformed XML: text outside the root element")
				}
			case 2:
				val = append(val, t...)
			}
		}
	}
	if !rootSeen {
		return nil, errors.New("malformed XML: no <xml> element")
	}
	return f, nil
}
