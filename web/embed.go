// Package web holds the HTML templates and static files, embedded so the
// binary serves them with no files beside it.
package web

import "embed"

// FS holds templates/*.html and static/*.
//
//go:embed templates static
var FS embed.FS
