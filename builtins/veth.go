package builtins

import (
	"fmt"
	"net"

	"go.starlark.net/starlark"

	"nsscript/topo"
)

// veth(a, b, name=None, peer=None, addr=None, peer_addr=None, mtu=None,
// mac=None, peer_mac=None) declares a veth pair between two endpoints.
func veth(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		a, b         endpoint
		name, peer   string
		addrA, addrB CIDRs
		mtu          = mtuUnset
		macA, macB   macAddr
	)
	if err := unpackArgs(fn.Name(), args, kwargs,
		"a", &a, "b", &b, "name??", &name, "peer??", &peer,
		"addr??", &addrA, "peer_addr??", &addrB, "mtu??", &mtu,
		"mac??", &macA, "peer_mac??", &macB); err != nil {
		return nil, err
	}
	s, err := stateFor(thread, fn)
	if err != nil {
		return nil, err
	}
	m, err := checkMTU(mtu)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	lab := s.Lab
	pos := CallerPos(thread)

	// A derived name must not collide with the other end's name when both
	// ends share a namespace, so each end's name is taken into account.
	if name == "" {
		var taken []string
		if peer != "" && a.ns == b.ns {
			taken = append(taken, peer)
		}
		name = lab.EndName(a.ns, a.local, b.local, taken...)
	}
	if peer == "" {
		var taken []string
		if a.ns == b.ns {
			taken = append(taken, name)
		}
		peer = lab.EndName(b.ns, b.local, a.local, taken...)
	}

	v := &topo.Veth{
		A:   topo.End{NS: a.ns, Name: name, Master: a.master, MAC: net.HardwareAddr(macA)},
		B:   topo.End{NS: b.ns, Name: peer, Master: b.master, MAC: net.HardwareAddr(macB)},
		MTU: m,
		Pos: pos,
	}
	err = record(fn, lab, func() error {
		if err := lab.AddVeth(v); err != nil {
			return err
		}
		if err := addAddrs(lab, v.A.NS, v.A.Name, addrA, pos); err != nil {
			return err
		}
		return addAddrs(lab, v.B.NS, v.B.Name, addrB, pos)
	})
	if err != nil {
		return nil, err
	}
	return Veth{v, lab}, nil
}
