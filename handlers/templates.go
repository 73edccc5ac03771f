package handlers

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"text/template/parse"

	"github.com/gofiber/template/html/v2"

	"portal/views"
)

// Handlers render the way they would with the html engine's own layouts:
//
//	c.Render("login", v)                            // the page inside the layout
//	c.Render(partial, v, "settings")                // a Settings section inside the sidebar (htmx)
//	c.Render(partial, v, "settings", defaultLayout) // ...and that inside the layout
//	c.Render(page, v, "partner", defaultLayout)     // a partner console page, sidebar and layout
//	c.Render("partials/session_row", row, "")       // a partial alone (htmx)
//
// The engine's own layouts bind its one shared "embed" function to the page
// on every render, under the engine's write lock: full pages would render
// one at a time, and a fragment arriving meanwhile would wait. Here each
// page and its layouts are composed once, at load, into a template of its
// own: a copy of each layout whose slot calls what it wraps. Rendering one
// is a map lookup and an Execute, without a lock.

// defaultLayout is the document around every full page (views/layout.html);
// fiber.Config.ViewsLayout names it, so c.Render uses it unless told "".
const defaultLayout = "layout"

// slots are the templates that wrap another, each with the template it
// calls where what it wraps goes.
var slots = map[string]string{
	defaultLayout: "content", // {{template "content" .}}
	"settings":    "section", // {{template "section" .Section}}
	"partner":     "page",    // {{template "page" .Page}}
}

// composition is a page and the layouts around it, innermost first, as
// c.Render names them.
type composition struct {
	page, inner, outer string
}

// compositions lists every page rendered inside a layout.
func compositions() []composition {
	cs := []composition{{"login", defaultLayout, ""}, {"error", defaultLayout, ""}}
	for _, p := range twoStepPages {
		cs = append(cs, composition{p, defaultLayout, ""})
	}
	for _, p := range settingsPartials() {
		cs = append(cs, composition{p, "settings", ""}, composition{p, "settings", defaultLayout})
	}
	for _, p := range partnerPages {
		cs = append(cs, composition{p, "partner", defaultLayout})
	}
	return cs
}

// viewEngine is gofiber's html engine, which parses the views and renders
// partials, with the composed views beside it.
type viewEngine struct {
	*html.Engine
	composed map[composition]*template.Template
}

// loadTemplates parses every template, with the "cached" function that
// renders a partial through the partial cache, and composes the views.
func loadTemplates() (*viewEngine, *partialCache, error) {
	partials := newPartialCache(defaultPartialCacheBytes)
	engine := html.NewFileSystem(http.FS(views.FS), ".html")
	engine.AddFunc("cached", partials.render)
	if err := engine.Load(); err != nil {
		return nil, nil, fmt.Errorf("handlers: load templates: %w", err)
	}
	e := &viewEngine{Engine: engine, composed: map[composition]*template.Template{}}
	for _, c := range compositions() {
		t, err := compose(engine.Templates, c)
		if err != nil {
			return nil, nil, fmt.Errorf("handlers: compose %s: %w", c.page, err)
		}
		e.composed[c] = t
	}
	partials.use(engine.Templates)
	return e, partials, nil
}

// compose adds c to the templates as "page in inner in outer": a copy of
// each layout in which the slot calls what the layout wraps. The templates
// must not have been executed yet.
func compose(set *template.Template, c composition) (*template.Template, error) {
	inner := c.page
	if set.Lookup(inner) == nil {
		return nil, fmt.Errorf("no template %q", inner)
	}
	for _, layout := range []string{c.inner, c.outer} {
		if layout == "" {
			break
		}
		name := inner + " in " + layout
		if set.Lookup(name) == nil {
			l, slot := set.Lookup(layout), slots[layout]
			if l == nil || slot == "" {
				return nil, fmt.Errorf("%q is not a layout", layout)
			}
			tree := l.Tree.Copy()
			tree.Name = name
			if !fillSlot(tree.Root, slot, inner) {
				return nil, fmt.Errorf("%q has no {{template %q}}", layout, slot)
			}
			if _, err := set.AddParseTree(name, tree); err != nil {
				return nil, err
			}
		}
		inner = name
	}
	return set.Lookup(inner), nil
}

// fillSlot makes every {{template slot}} under n call name instead.
func fillSlot(n parse.Node, slot, name string) (found bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return false
		}
		for _, child := range n.Nodes {
			found = fillSlot(child, slot, name) || found
		}
	case *parse.TemplateNode:
		if n.Name == slot {
			n.Name = name
			return true
		}
	case *parse.IfNode:
		return fillBranches(&n.BranchNode, slot, name)
	case *parse.WithNode:
		return fillBranches(&n.BranchNode, slot, name)
	case *parse.RangeNode:
		return fillBranches(&n.BranchNode, slot, name)
	}
	return found
}

func fillBranches(b *parse.BranchNode, slot, name string) bool {
	inList := fillSlot(b.List, slot, name)
	inElse := fillSlot(b.ElseList, slot, name)
	return inList || inElse
}

// Render is fiber.Views' Render: a composed view when layouts are given,
// the engine's template alone when the layout is "".
func (e *viewEngine) Render(w io.Writer, name string, data any, layouts ...string) error {
	c := composition{page: name}
	switch len(layouts) {
	case 0:
	case 1:
		c.inner = layouts[0]
	case 2:
		c.inner, c.outer = layouts[0], layouts[1]
	default:
		return fmt.Errorf("render %s: more than two layouts", name)
	}
	if c.inner == "" {
		return e.Engine.Render(w, name, data)
	}
	t := e.composed[c]
	if t == nil {
		return fmt.Errorf("render %s in %v: not among the composed views", name, layouts)
	}
	return t.Execute(w, data)
}
