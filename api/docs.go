package api

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// renderDocs turns the OpenAPI document into one self-contained HTML page: no scripts, fonts or
// stylesheets from elsewhere, so it reads the same on an operator's machine without internet.
func renderDocs(spec []byte) ([]byte, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml for docs: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml is invalid: %w", err)
	}
	type param struct {
		Name, In, Type, Desc string
		Required             bool
	}
	type field struct {
		Name, Type, Desc string
		Required         bool
	}
	type response struct{ Code, Desc string }
	type op struct {
		Method, Path, ID, Summary string
		Desc                      template.HTML
		Params                    []param
		BodyType                  string
		Body                      []field
		Responses                 []response
	}
	var ops []op
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		item := doc.Paths.Value(path)
		for method, o := range item.Operations() {
			x := op{Method: method, Path: path, ID: o.OperationID, Summary: o.Summary, Desc: paragraphs(o.Description)}
			for _, p := range o.Parameters {
				pv := p.Value
				x.Params = append(x.Params, param{pv.Name, pv.In, schemaType(pv.Schema), pv.Description, pv.Required})
			}
			if o.RequestBody != nil && o.RequestBody.Value != nil {
				for ct, mt := range o.RequestBody.Value.Content {
					x.BodyType = ct
					if mt.Schema != nil && mt.Schema.Value != nil {
						req := map[string]bool{}
						for _, r := range mt.Schema.Value.Required {
							req[r] = true
						}
						names := make([]string, 0, len(mt.Schema.Value.Properties))
						for n := range mt.Schema.Value.Properties {
							names = append(names, n)
						}
						sort.Strings(names)
						for _, n := range names {
							ps := mt.Schema.Value.Properties[n]
							x.Body = append(x.Body, field{n, schemaType(ps), ps.Value.Description, req[n]})
						}
					}
				}
			}
			codes := o.Responses.Map()
			keys := make([]string, 0, len(codes))
			for k := range codes {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				d := ""
				if r := codes[k].Value; r != nil && r.Description != nil {
					d = *r.Description
				}
				x.Responses = append(x.Responses, response{k, d})
			}
			ops = append(ops, x)
		}
	}
	sort.SliceStable(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
	var buf bytes.Buffer
	err = docsTemplate.Execute(&buf, map[string]any{
		"Title": doc.Info.Title, "Version": doc.Info.Version, "Intro": paragraphs(doc.Info.Description), "Ops": ops,
	})
	if err != nil {
		return nil, fmt.Errorf("render docs: %w", err)
	}
	return buf.Bytes(), nil
}

func schemaType(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Value == nil {
		return ""
	}
	if ref.Ref != "" {
		return ref.Ref[strings.LastIndex(ref.Ref, "/")+1:]
	}
	s := ref.Value
	t := ""
	if s.Type != nil && len(*s.Type) > 0 {
		t = (*s.Type)[0]
	}
	if len(s.AllOf) == 1 {
		return schemaType(s.AllOf[0])
	}
	if t == "array" && s.Items != nil {
		return schemaType(s.Items) + "[]"
	}
	if len(s.Enum) > 0 {
		vals := make([]string, len(s.Enum))
		for i, v := range s.Enum {
			vals[i] = fmt.Sprint(v)
		}
		return t + " (" + strings.Join(vals, " | ") + ")"
	}
	if s.Format != "" {
		return t + " (" + s.Format + ")"
	}
	return t
}

// paragraphs renders plain description text as escaped paragraphs, with `code` spans.
func paragraphs(s string) template.HTML {
	var b strings.Builder
	for _, para := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if strings.TrimSpace(para) == "" {
			continue
		}
		esc := template.HTMLEscapeString(strings.Join(strings.Fields(para), " "))
		parts := strings.Split(esc, "`")
		for i := 1; i < len(parts); i += 2 {
			parts[i] = "<code>" + parts[i] + "</code>"
		}
		b.WriteString("<p>" + strings.Join(parts, "") + "</p>\n")
	}
	return template.HTML(b.String()) //nolint:gosec // every piece was escaped above
}

var docsTemplate = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#222}
h2{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2.5rem}
.m{display:inline-block;min-width:4rem;font-weight:bold;font-family:monospace}
code,.p{font-family:monospace}table{border-collapse:collapse;width:100%;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f4}
nav li{font-family:monospace}.req{color:#b00}
</style></head><body>
<h1>{{.Title}} <small>{{.Version}}</small></h1>
{{.Intro}}
<p>Machine-readable specification: <a href="/openapi.yaml">/openapi.yaml</a>.</p>
<nav><ul>{{range .Ops}}<li><a href="#{{.ID}}">{{.Method}} {{.Path}}</a> — {{.Summary}}</li>{{end}}</ul></nav>
{{range .Ops}}<h2 id="{{.ID}}"><span class="m">{{.Method}}</span> <span class="p">{{.Path}}</span></h2>
<p><strong>{{.Summary}}</strong></p>{{.Desc}}
{{if .Params}}<h3>Parameters</h3><table><tr><th>name</th><th>in</th><th>type</th><th>description</th></tr>
{{range .Params}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.In}}</td><td>{{.Type}}</td><td>{{.Desc}}</td></tr>{{end}}</table>{{end}}
{{if .BodyType}}<h3>Request body <code>{{.BodyType}}</code></h3>{{if .Body}}<table><tr><th>field</th><th>type</th><th>description</th></tr>
{{range .Body}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.Type}}</td><td>{{.Desc}}</td></tr>{{end}}</table>{{end}}{{end}}
<h3>Responses</h3><table>{{range .Responses}}<tr><td><code>{{.Code}}</code></td><td>{{.Desc}}</td></tr>{{end}}</table>
{{end}}</body></html>
`))
