package builtins

import (
	"fmt"
	"net/netip"

	"go.starlark.net/starlark"

	"nsscript/topo"
)

// CIDRs is an argument holding interface addresses: a CIDR string such as
// "10.0.1.2/24", or a list or tuple of them. Host bits are kept: they are
// the address.
type CIDRs []netip.Prefix

var _ starlark.Unpacker = (*CIDRs)(nil)

// Unpack parses v as one CIDR string or a sequence of them.
func (c *CIDRs) Unpack(v starlark.Value) error {
	if s, ok := v.(starlark.String); ok {
		p, err := topo.ParseCIDR(string(s))
		if err != nil {
			return err
		}
		*c = CIDRs{p}
		return nil
	}
	var seq starlark.Indexable
	switch v := v.(type) {
	case *starlark.List:
		seq = v
	case starlark.Tuple:
		seq = v
	default:
		return fmt.Errorf("got %s, want a CIDR string such as \"10.0.1.2/24\" or a list of them", v.Type())
	}
	out := make(CIDRs, 0, seq.Len())
	for i := range seq.Len() {
		s, ok := seq.Index(i).(starlark.String)
		if !ok {
			return fmt.Errorf("item %d is %s %s, want a CIDR string such as \"10.0.1.2/24\"", i, seq.Index(i).Type(), seq.Index(i))
		}
		p, err := topo.ParseCIDR(string(s))
		if err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
		out = append(out, p)
	}
	*c = out
	return nil
}

// network is an argument holding a network such as "192.168.15.0/24":
// a CIDR with the host bits zero.
type network netip.Prefix

var _ starlark.Unpacker = (*network)(nil)

func (n *network) Unpack(v starlark.Value) error {
	s, ok := v.(starlark.String)
	if !ok {
		return fmt.Errorf("got %s, want a CIDR network string such as \"192.168.15.0/24\"", v.Type())
	}
	p, err := netip.ParsePrefix(string(s))
	if err != nil {
		return fmt.Errorf("%q is not a CIDR network; want e.g. \"192.168.15.0/24\"", string(s))
	}
	if p.Masked() != p {
		return fmt.Errorf("network %q has host bits set; did you mean %q?", string(s), p.Masked().String())
	}
	*n = network(p)
	return nil
}

// gateway is an argument holding a gateway address such as "10.0.0.1".
type gateway netip.Addr

var _ starlark.Unpacker = (*gateway)(nil)

func (g *gateway) Unpack(v starlark.Value) error {
	s, ok := v.(starlark.String)
	if !ok {
		return fmt.Errorf("got %s, want an IP address string such as \"10.0.0.1\"", v.Type())
	}
	a, err := netip.ParseAddr(string(s))
	if err != nil {
		if p, perr := netip.ParsePrefix(string(s)); perr == nil {
			return fmt.Errorf("gateway %q is a CIDR; write the address alone, %q", string(s), p.Addr().String())
		}
		return fmt.Errorf("gateway %q is not an IP address; want e.g. \"10.0.0.1\" or \"fd00::1\"", string(s))
	}
	if a.Zone() != "" {
		return fmt.Errorf("gateway %q has a zone; write the address without %%zone and give dev=", string(s))
	}
	*g = gateway(a)
	return nil
}
