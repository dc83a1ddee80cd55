// Package gen is the server code oapi-codegen generates from ../openapi.yaml: request and
// response types, the echo router and the strict handler interface that package api implements.
// Do not edit api.gen.go; change the spec and run `make generate`.
package gen

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
