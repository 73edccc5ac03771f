// Package views holds the HTML templates, embedded so the binary needs no
// files at run time and tests render exactly what it serves.
package views

import "embed"

// FS is the template tree: partials/ and one file per page.
//
//go:embed *.html partials
var FS embed.FS
