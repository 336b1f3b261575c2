package builtins

import (
	"fmt"
	"hash/fnv"

	"go.starlark.net/starlark"

	"nsscript/topo"
)

// The values below are views of resources recorded in a lab. They are
// immutable and compare equal when they denote the same resource.

var (
	_ starlark.HasAttrs = Netns{}
	_ starlark.HasAttrs = Bridge{}
	_ starlark.HasAttrs = Veth{}
	_ starlark.HasAttrs = Iface{}
	_ starlark.HasAttrs = ExecResult{}
)

func hashString(parts ...string) uint32 {
	h := fnv.New32a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum32()
}

// Netns is a network namespace: the value of host or of netns(name).
type Netns struct{ name string }

// NewNetns returns the value denoting namespace name (topo.Host for host).
func NewNetns(name string) Netns { return Netns{name} }

// Name is the namespace's name, topo.Host for the root namespace.
func (n Netns) Name() string { return n.name }

// String returns the value as print shows it.
func (n Netns) String() string { return "<netns " + topo.NSName(n.name) + ">" }

// Type returns "netns".
func (n Netns) Type() string { return "netns" }

// Freeze does nothing: a Netns is immutable.
func (n Netns) Freeze() {}

// Truth returns True.
func (n Netns) Truth() starlark.Bool { return true }

// Hash hashes the namespace's name.
func (n Netns) Hash() (uint32, error) { return hashString("netns", n.name), nil }

// Attr returns the attribute name: .name.
func (n Netns) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(topo.NSName(n.name)), nil
	}
	return nil, nil
}

// AttrNames lists the attributes of a Netns.
func (n Netns) AttrNames() []string { return []string{"name"} }

// Bridge is a bridge recorded by bridge().
type Bridge struct {
	br  *topo.Bridge
	lab *topo.Lab
}

// Resource returns the recorded bridge.
func (b Bridge) Resource() *topo.Bridge { return b.br }

// String returns the value as print shows it.
func (b Bridge) String() string {
	return "<bridge " + b.br.Name + " in " + topo.NSName(b.br.NS) + ">"
}

// Type returns "bridge".
func (b Bridge) Type() string { return "bridge" }

// Freeze does nothing: a Bridge is immutable.
func (b Bridge) Freeze() {}

// Truth returns True.
func (b Bridge) Truth() starlark.Bool { return true }

// Hash hashes the bridge's namespace and name.
func (b Bridge) Hash() (uint32, error) { return hashString("bridge", b.br.NS, b.br.Name), nil }

// Attr returns the attribute name: .name, .ns, .addrs or .mac.
func (b Bridge) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(b.br.Name), nil
	case "mac":
		return starlark.String(b.br.MAC.String()), nil
	case "ns":
		return Netns{b.br.NS}, nil
	case "addrs":
		return addrList(b.lab, b.br.NS, b.br.Name), nil
	}
	return nil, nil
}

// AttrNames lists the attributes of a Bridge.
func (b Bridge) AttrNames() []string { return []string{"addrs", "mac", "name", "ns"} }

// Veth is a veth pair recorded by veth().
type Veth struct {
	veth *topo.Veth
	lab  *topo.Lab
}

// Resource returns the recorded veth pair.
func (v Veth) Resource() *topo.Veth { return v.veth }

// String returns the value as print shows it.
func (v Veth) String() string {
	return fmt.Sprintf("<veth %s in %s, %s in %s>",
		v.veth.A.Name, topo.NSName(v.veth.A.NS), v.veth.B.Name, topo.NSName(v.veth.B.NS))
}

// Type returns "veth".
func (v Veth) Type() string { return "veth" }

// Freeze does nothing: a Veth is immutable.
func (v Veth) Freeze() {}

// Truth returns True.
func (v Veth) Truth() starlark.Bool { return true }

// Hash hashes the names of the two ends.
func (v Veth) Hash() (uint32, error) {
	return hashString("veth", v.veth.A.NS, v.veth.A.Name, v.veth.B.NS, v.veth.B.Name), nil
}

// Attr returns the attribute name: .a or .b, the ends.
func (v Veth) Attr(name string) (starlark.Value, error) {
	switch name {
	case "a":
		return Iface{v.veth, v.lab, 0}, nil
	case "b":
		return Iface{v.veth, v.lab, 1}, nil
	}
	return nil, nil
}

// AttrNames lists the attributes of a Veth.
func (v Veth) AttrNames() []string { return []string{"a", "b"} }

// Iface is one end of a veth pair: v.a or v.b.
type Iface struct {
	veth *topo.Veth
	lab  *topo.Lab
	side int // 0: end A, 1: end B
}

// End returns the recorded end.
func (i Iface) End() topo.End {
	if i.side == 0 {
		return i.veth.A
	}
	return i.veth.B
}

// String returns the value as print shows it.
func (i Iface) String() string {
	e := i.End()
	return "<iface " + e.Name + " in " + topo.NSName(e.NS) + ">"
}

// Type returns "iface".
func (i Iface) Type() string { return "iface" }

// Freeze does nothing: an Iface is immutable.
func (i Iface) Freeze() {}

// Truth returns True.
func (i Iface) Truth() starlark.Bool { return true }

// Hash hashes the end's namespace and name.
func (i Iface) Hash() (uint32, error) {
	e := i.End()
	return hashString("iface", e.NS, e.Name), nil
}

// Attr returns the attribute name: .name, .ns, .peer, .addrs, .bridge or
// .mac.
func (i Iface) Attr(name string) (starlark.Value, error) {
	e := i.End()
	switch name {
	case "name":
		return starlark.String(e.Name), nil
	case "mac":
		return starlark.String(e.MAC.String()), nil
	case "ns":
		return Netns{e.NS}, nil
	case "peer":
		return Iface{i.veth, i.lab, 1 - i.side}, nil
	case "addrs":
		return addrList(i.lab, e.NS, e.Name), nil
	case "bridge":
		if br := i.lab.LookupBridge(e.NS, e.Master); e.Master != "" && br != nil {
			return Bridge{br, i.lab}, nil
		}
		return starlark.None, nil
	}
	return nil, nil
}

// AttrNames lists the attributes of an Iface.
func (i Iface) AttrNames() []string { return []string{"addrs", "bridge", "mac", "name", "ns", "peer"} }

// addrList returns the addresses declared so far on interface dev of ns, as
// a new list of CIDR strings.
func addrList(lab *topo.Lab, ns, dev string) *starlark.List {
	var out []starlark.Value
	for _, a := range lab.Addrs {
		if a.NS == ns && a.Dev == dev {
			out = append(out, starlark.String(a.Prefix.String()))
		}
	}
	return starlark.NewList(out)
}

// ExecResult is what exec() returns: the command's output and exit code.
type ExecResult struct {
	Stdout, Stderr string
	Code           int
}

// String returns the value as print shows it.
func (r ExecResult) String() string { return fmt.Sprintf("<exec_result code=%d>", r.Code) }

// Type returns "exec_result".
func (r ExecResult) Type() string { return "exec_result" }

// Freeze does nothing: an ExecResult is immutable.
func (r ExecResult) Freeze() {}

// Truth reports whether the command succeeded (exit code 0).
func (r ExecResult) Truth() starlark.Bool { return r.Code == 0 }

// Hash hashes the output and exit code.
func (r ExecResult) Hash() (uint32, error) {
	return hashString("exec_result", r.Stdout, r.Stderr, fmt.Sprint(r.Code)), nil
}

// Attr returns the attribute name: .stdout, .stderr or .code.
func (r ExecResult) Attr(name string) (starlark.Value, error) {
	switch name {
	case "stdout":
		return starlark.String(r.Stdout), nil
	case "stderr":
		return starlark.String(r.Stderr), nil
	case "code":
		return starlark.MakeInt(r.Code), nil
	}
	return nil, nil
}

// AttrNames lists the attributes of an ExecResult.
func (r ExecResult) AttrNames() []string { return []string{"code", "stderr", "stdout"} }
