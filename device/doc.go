// Package device turns a User-Agent header into words a person recognises,
// such as "Firefox 133 on Windows" or "Safari on iPhone", for lists of
// sessions and sign-in notices. Labels never contain the raw UA; Clean
// gives the sanitised raw string to keep for support.
//
// # Why no third-party parser
//
// Parsing is a short list of ordered token rules in this package. Three
// parsers were tried on the table in table_test.go (132 UAs then), mapping
// their output straight to Info with only renames ("MacOS" to "macOS"), on
// one 2-core AMD EPYC, ns/op over a mix of 7 UAs:
//
//	parser                          rows wrong  ns/op    allocs/op
//	medama-io/go-useragent v1.2.5   66          ~600     1
//	mssola/useragent v1.0.0         69          ~1,600   15
//	ua-parser/uap-go (2026-05)      33          ~800,000 45 (uncached)
//	this package                    0           ~1,400   0
//
// None names command-line tools, medama and mssola name no crawlers, none
// tells an Android tablet from a phone the way wanted here, so each would
// need most of these rules anyway. medama's trie also only knows UA shapes
// it was built from: Chrome, Edge and Firefox on Windows ARM64 came back
// with no browser at all, and it builds a 5 MB trie at start-up. uap-go is
// the most accurate but costs close to a millisecond per unseen UA. The
// "0 wrong" is by construction (the rules were written against the table);
// the table is what guards them.
package device
