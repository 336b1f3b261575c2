package builtins

import (
	"fmt"
	"net"

	"go.starlark.net/starlark"

	"nsscript/topo"
)

// bridge(name, addr=None, ns=host, mtu=None, mac=None) declares a bridge.
func bridge(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		name  string
		addrs CIDRs
		ns    namespace
		mtu   = mtuUnset
		mac   macAddr
	)
	if err := unpackArgs(fn.Name(), args, kwargs,
		"name", &name, "addr??", &addrs, "ns?", &ns, "mtu??", &mtu, "mac??", &mac); err != nil {
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
	pos := CallerPos(thread)
	br := &topo.Bridge{Name: name, NS: string(ns), MTU: m, MAC: net.HardwareAddr(mac), Pos: pos}
	err = record(fn, s.Lab, func() error {
		if err := s.Lab.AddBridge(br); err != nil {
			return err
		}
		return addAddrs(s.Lab, br.NS, br.Name, addrs, pos)
	})
	if err != nil {
		return nil, err
	}
	return Bridge{br, s.Lab}, nil
}

// mtuUnset marks an mtu= left out or None, so that an explicit 0 is
// reported as out of range rather than taken as the default.
const mtuUnset = -1

func checkMTU(mtu int) (int, error) {
	switch {
	case mtu == mtuUnset:
		return 0, nil
	case mtu < 68 || mtu > 65535:
		return 0, fmt.Errorf("mtu %d is out of range; use 68 to 65535, or None for the kernel's default", mtu)
	}
	return mtu, nil
}

// macAddr is a mac= argument: an Ethernet address string such as
// "02:00:00:00:00:01". Left out (or None), the lab derives one.
type macAddr net.HardwareAddr

var _ starlark.Unpacker = (*macAddr)(nil)

func (m *macAddr) Unpack(v starlark.Value) error {
	s, ok := v.(starlark.String)
	if !ok {
		return fmt.Errorf("got %s, want an Ethernet address string such as \"02:00:00:00:00:01\"", v.Type())
	}
	mac, err := topo.ParseMAC(string(s))
	if err != nil {
		return err
	}
	*m = macAddr(mac)
	return nil
}
