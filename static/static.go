// Package static holds the stylesheet, script and vendored htmx that the
// binary serves under /static/.
package static

import "embed"

// FS is the static tree: app.css, app.js, live.js, passkeys.js, and the
// vendored htmx and its SSE extension.
//
//go:embed app.css app.js live.js passkeys.js vendor
var FS embed.FS
