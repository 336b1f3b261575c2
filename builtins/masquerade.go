package builtins

import (
	"fmt"
	"net/netip"

	"go.starlark.net/starlark"

	"nsscript/topo"
)

// masquerade(src, ns=host, out=None) declares a source NAT rule and IPv4
// forwarding in ns.
func masquerade(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		src network
		ns  namespace
		out device
	)
	if err := unpackArgs(fn.Name(), args, kwargs, "src", &src, "ns?", &ns, "out??", &out); err != nil {
		return nil, err
	}
	s, err := stateFor(thread, fn)
	if err != nil {
		return nil, err
	}
	if err := out.inNS("out", string(ns)); err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	m := &topo.Masquerade{NS: string(ns), Src: netip.Prefix(src), Out: out.name, Pos: CallerPos(thread)}
	if err := record(fn, s.Lab, func() error { return s.Lab.AddMasquerade(m) }); err != nil {
		return nil, err
	}
	return starlark.None, nil
}
