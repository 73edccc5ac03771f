package handlers

import (
	"reflect"
	"testing"

	"portal/store"
	"portal/store/bolt"
)

// maxStoreMethods bounds each interface between the handlers and the
// store (issue 22): a job that needs more is two jobs.
const maxStoreMethods = 15

// TestStoreInterfacesAreSmall: the handler reaches the store only through
// small interfaces, each a part of store.Backend, and never holds the
// whole of it.
func TestStoreInterfacesAreSmall(t *testing.T) {
	backend := reflect.TypeFor[store.Backend]()
	var walk func(t *testing.T, typ reflect.Type, path string) int
	walk = func(t *testing.T, typ reflect.Type, path string) int {
		n := 0
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := path + f.Name
			switch {
			case f.Type.Kind() == reflect.Struct && f.Anonymous:
				n += walk(t, f.Type, name+".")
			case f.Type.Kind() != reflect.Interface || !backend.Implements(f.Type):
				// Not a view of the store.
			case f.Type == backend:
				t.Errorf("%s holds the whole store.Backend", name)
			case f.Type.NumMethod() > maxStoreMethods:
				t.Errorf("%s (%s) has %d methods; want at most %d", name, f.Type, f.Type.NumMethod(), maxStoreMethods)
			default:
				n++
			}
		}
		return n
	}
	if n := walk(t, reflect.TypeFor[handler](), "handler."); n == 0 {
		t.Fatal("the handler holds no view of the store at all; has it moved?")
	}
}

// TestStoresOfSetsEveryView: New's one backend fills every view, so none
// is left nil to fail on its first request.
func TestStoresOfSetsEveryView(t *testing.T) {
	var b store.Backend = &bolt.Store{}
	s := reflect.ValueOf(storesOf(b))
	for i := range s.NumField() {
		if s.Field(i).IsNil() {
			t.Errorf("storesOf leaves %s nil", s.Type().Field(i).Name)
		}
	}
}
