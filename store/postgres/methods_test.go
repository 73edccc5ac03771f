package postgres

import (
	"reflect"
	"testing"

	"portal/store/bolt"
)

// TestSameMethodsAsBbolt: the Store has every exported method of the
// bbolt store, with the same signature, and no other; a method added to
// one and not the other fails here before a caller finds it missing.
func TestSameMethodsAsBbolt(t *testing.T) {
	t.Parallel()
	methods := func(v any) map[string]reflect.Type {
		typ := reflect.TypeOf(v)
		out := make(map[string]reflect.Type, typ.NumMethod())
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			// Without the receiver, which differs.
			out[m.Name] = reflect.FuncOf(inputs(m.Type)[1:], outputs(m.Type), m.Type.IsVariadic())
		}
		return out
	}
	bbolt, pg := methods(&bolt.Store{}), methods(&Store{})
	for name, want := range bbolt {
		got, ok := pg[name]
		switch {
		case !ok:
			t.Errorf("missing: func (*Store) %s%s", name, want.String()[len("func"):])
		case got != want:
			t.Errorf("%s is %s, the bbolt store's is %s", name, got, want)
		}
	}
	for name := range pg {
		if _, ok := bbolt[name]; !ok {
			t.Errorf("%s has no counterpart in the bbolt store", name)
		}
	}
}

func inputs(f reflect.Type) []reflect.Type {
	out := make([]reflect.Type, f.NumIn())
	for i := range out {
		out[i] = f.In(i)
	}
	return out
}

func outputs(f reflect.Type) []reflect.Type {
	out := make([]reflect.Type, f.NumOut())
	for i := range out {
		out[i] = f.Out(i)
	}
	return out
}
