package geo

import "net/netip"

// Place is what a session keeps of an address: its network, a masked form
// and a coarse location. The full address is never kept: Network is its
// /24 or /48. Sessions store it as JSON under these names.
type Place struct {
	Network string `json:"network,omitempty"` // "203.0.113.0/24"
	Masked  string `json:"masked,omitempty"`  // "203.0.113.x"
	Location
}

// Place resolves addr to what a session may keep of it. A nil Resolver, or
// one without a database, still gives the network and the masked form.
func (r *Resolver) Place(addr netip.Addr) Place {
	return Place{Network: Network(addr), Masked: Mask(addr), Location: r.Lookup(addr)}
}
