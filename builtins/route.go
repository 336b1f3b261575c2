package builtins

import (
	"fmt"
	"net/netip"

	"go.starlark.net/starlark"

	"nsscript/topo"
)

// route(ns, dst, via=None, dev=None, metric=None) declares a route.
func route(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		ns     namespace
		dst    string
		via    gateway
		dev    device
		metric int
	)
	if err := unpackArgs(fn.Name(), args, kwargs,
		"ns", &ns, "dst", &dst, "via??", &via, "dev??", &dev, "metric??", &metric); err != nil {
		return nil, err
	}
	s, err := stateFor(thread, fn)
	if err != nil {
		return nil, err
	}
	gw := netip.Addr(via)
	var prefix netip.Prefix
	if dst == "default" && gw.Is6() {
		// "default" means what the gateway's family says it means.
		prefix = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	} else if prefix, err = topo.ParseDst(dst); err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	if err := dev.inNS("dev", string(ns)); err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	r := &topo.Route{NS: string(ns), Dst: prefix, Via: gw, Dev: dev.name, Metric: metric, Pos: CallerPos(thread)}
	if err := record(fn, s.Lab, func() error { return s.Lab.AddRoute(r) }); err != nil {
		return nil, err
	}
	return starlark.None, nil
}
