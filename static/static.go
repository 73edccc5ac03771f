// Package static holds the stylesheet, script and vendored htmx that the
// binary serves under /static/.
package static

import "embed"

// FS is the static tree: app.css, app.js, vendor/htmx/htmx.min.js.
//
//go:embed app.css app.js vendor
var FS embed.FS
