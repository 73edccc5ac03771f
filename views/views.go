// Package views holds the HTML templates, embedded so the binary needs no
// files at run time and tests render exactly what it serves.
//
// layout.html is the document every full page shares; a page (login.html,
// error.html, settings.html, partner.html) fills its "content" slot.
// settings.html is the Settings sidebar with a "section" slot, which the
// section's partial fills; partner.html is the partner console's sidebar
// with a "page" slot, which a page of partner/ fills. partials/ are the
// pieces, and what htmx requests get. The slots are bound when the
// templates load (handlers/templates.go).
package views

import "embed"

// FS is the template tree: the layout, one file per page, and partials/.
//
//go:embed *.html partials partner
var FS embed.FS
