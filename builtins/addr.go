package builtins

import (
	"fmt"

	"go.starlark.net/starlark"

	"nsscript/topo"
)

// addr(iface, cidr) adds addresses to a bridge or a veth end.
func addr(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		iface link
		cidrs CIDRs
	)
	if err := unpackArgs(fn.Name(), args, kwargs, "iface", &iface, "cidr", &cidrs); err != nil {
		return nil, err
	}
	s, err := stateFor(thread, fn)
	if err != nil {
		return nil, err
	}
	if len(cidrs) == 0 {
		return nil, fmt.Errorf("%s: no address given; pass a CIDR such as \"10.0.1.2/24\" or a non-empty list", fn.Name())
	}
	pos := CallerPos(thread)
	err = record(fn, s.Lab, func() error { return addAddrs(s.Lab, iface.ns, iface.name, cidrs, pos) })
	return starlark.None, err
}

// addAddrs records the addresses cidrs on interface dev of namespace ns.
func addAddrs(lab *topo.Lab, ns, dev string, cidrs CIDRs, pos topo.Pos) error {
	for _, p := range cidrs {
		if err := lab.AddAddr(&topo.Addr{NS: ns, Dev: dev, Prefix: p, Pos: pos}); err != nil {
			return err
		}
	}
	return nil
}
