package handlers

import (
	"bytes"
	"fmt"
	"html/template"
	"reflect"
	"sync"
	"sync/atomic"
)

// partialCache remembers what a partial rendered for a given value, so a
// row that reads the same as last time is not rendered again. Executing
// html/template costs about 20 µs for one session row (reflection on every
// field and every escaper), which made rendering 60% of an Active Sessions
// request; a lookup costs well under a microsecond.
//
// The key is the partial's name and the whole value it is rendered with,
// so a hit returns exactly what rendering would: a partial's output
// depends on nothing but its data. Values must be plain (strings, numbers,
// bools, and structs or arrays of them: nothing that could change behind
// an equal key) and hold everything the partial shows (sessionRow holds its display strings, not
// a session), which is why the cache needs no invalidation: a changed
// session makes a different value and a different key.
//
// Memory is bounded by bytes of HTML, in two generations (see
// generations): at most 2×maxBytes stays alive whatever the number of
// users or sessions, and values still in use are carried over on their
// next hit.
type partialCache struct {
	tmpl *template.Template
	kept *generations[partialKey, template.HTML]

	hits, miss atomic.Uint64

	mu    sync.Mutex // guards plain
	plain map[reflect.Type]bool
}

type partialKey struct {
	name string
	data any
}

// defaultPartialCacheBytes holds a few thousand rows: every row of a few
// hundred busy users.
const defaultPartialCacheBytes = 4 << 20

func newPartialCache(maxBytes int) *partialCache {
	size := func(out template.HTML) int { return len(out) }
	return &partialCache{kept: newGenerations[partialKey](maxBytes, size), plain: map[reflect.Type]bool{}}
}

// use sets the templates to render from. Call it once, after the engine has
// loaded them and before the first request.
func (pc *partialCache) use(t *template.Template) { pc.tmpl = t }

// render is the templates' "cached" function: {{cached "partials/x" .}}
// in place of {{template "partials/x" .}}, where . is a plain value.
func (pc *partialCache) render(name string, data any) (template.HTML, error) {
	k := partialKey{name, data}
	if !pc.isPlain(data) {
		return "", fmt.Errorf("cached %q: data of type %T cannot be a cache key", name, data)
	}
	if out, ok := pc.kept.get(k); ok {
		pc.hits.Add(1)
		return out, nil
	}
	pc.miss.Add(1)

	t := pc.tmpl.Lookup(name)
	if t == nil {
		return "", fmt.Errorf("cached %q: no such template", name)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "", err
	}
	// The output of an html/template is HTML already escaped for where
	// the partial is used (element content), which is the only place
	// "cached" appears.
	out := template.HTML(buf.String())
	pc.kept.put(k, out)
	return out, nil
}

// isPlain reports whether data is a value whose every part is compared by
// content: no pointers, interfaces, slices or maps, which could change
// behind an equal key (or, for slices and maps, panic as one).
func (pc *partialCache) isPlain(data any) bool {
	t := reflect.TypeOf(data)
	if t == nil {
		return false
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	ok, seen := pc.plain[t]
	if !seen {
		ok = plainType(t)
		pc.plain[t] = ok
	}
	return ok
}

func plainType(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	case reflect.Array:
		return plainType(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !plainType(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}
