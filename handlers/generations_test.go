package handlers

import (
	"slices"
	"testing"
)

// TestGenerations plays puts and gets against a small bound and checks
// what each generation holds after: when the generation turns, what a hit
// carries over, what is dropped, and how size weighs entries.
func TestGenerations(t *testing.T) {
	type op struct {
		put  bool // else get
		k, v string
	}
	put := func(k, v string) op { return op{put: true, k: k, v: v} }
	get := func(k string) op { return op{k: k} }
	bytes := func(v string) int { return len(v) }
	tests := []struct {
		name      string
		max       int
		size      func(string) int
		ops       []op
		cur, prev []string // keys, sorted
		found     string   // what the last op, a get, finds; "" for nothing
	}{
		{"below the bound stays current", 3, nil,
			[]op{put("a", "1"), put("b", "2"), put("c", "3"), get("b")},
			[]string{"a", "b", "c"}, nil, "2"},
		{"full current becomes previous", 2, nil,
			[]op{put("a", "1"), put("b", "2"), put("c", "3")},
			[]string{"c"}, []string{"a", "b"}, ""},
		{"the oldest generation is dropped", 2, nil,
			[]op{put("a", "1"), put("b", "2"), put("c", "3"), put("d", "4"), put("e", "5"), get("a")},
			[]string{"e"}, []string{"c", "d"}, ""},
		{"a hit in previous is carried over", 2, nil,
			[]op{put("a", "1"), put("b", "2"), put("c", "3"), get("a")},
			[]string{"a", "c"}, []string{"a", "b"}, "1"},
		{"carried over survives the next turn", 2, nil,
			[]op{put("a", "1"), put("b", "2"), put("c", "3"), get("a"), put("d", "4"), get("a")},
			[]string{"a", "d"}, []string{"a", "c"}, "1"},
		{"putting a current key again overwrites it", 2, nil,
			[]op{put("a", "1"), put("a", "x"), get("a")},
			[]string{"a"}, nil, "x"},
		{"overwriting in a full generation turns it", 2, nil,
			[]op{put("a", "1"), put("b", "2"), put("a", "x"), get("a")},
			[]string{"a"}, []string{"a", "b"}, "x"},
		{"sized: turns when the next would pass the bound", 5, bytes,
			[]op{put("a", "12"), put("b", "345"), put("c", "6")},
			[]string{"c"}, []string{"a", "b"}, ""},
		{"sized: exactly the bound stays", 5, bytes,
			[]op{put("a", "12"), put("b", "345"), get("a")},
			[]string{"a", "b"}, nil, "12"},
		{"sized: one entry over the bound is kept alone", 2, bytes,
			[]op{put("a", "1"), put("big", "12345"), get("big")},
			[]string{"big"}, []string{"a"}, "12345"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGenerations[string, string](tt.max, tt.size)
			var found string
			for _, o := range tt.ops {
				if o.put {
					g.put(o.k, o.v)
					continue
				}
				found, _ = g.get(o.k)
			}
			if found != tt.found {
				t.Errorf("last get found %q; want %q", found, tt.found)
			}
			keys := func(m map[string]string) []string {
				var out []string
				for k := range m {
					out = append(out, k)
				}
				slices.Sort(out)
				return out
			}
			if got := keys(g.cur); !slices.Equal(got, tt.cur) {
				t.Errorf("current holds %v; want %v", got, tt.cur)
			}
			if got := keys(g.prev); !slices.Equal(got, tt.prev) {
				t.Errorf("previous holds %v; want %v", got, tt.prev)
			}
		})
	}
}

// TestGenerationsHasDoesNotCarryOver: asking whether a key is held (to
// prefetch what is not) finds it in either generation but leaves it
// where it is, so it still goes with its generation.
func TestGenerationsHasDoesNotCarryOver(t *testing.T) {
	g := newGenerations[string, int](1, nil)
	g.put("a", 1)
	g.put("b", 2) // a is now previous
	if !g.has("a") || !g.has("b") || g.has("c") {
		t.Fatalf("has a, b, c = %v, %v, %v; want true, true, false", g.has("a"), g.has("b"), g.has("c"))
	}
	g.put("c", 3) // turns: a is dropped unless has carried it over
	if g.has("a") {
		t.Fatal("a survived a turn after has: has carried it over")
	}
}
