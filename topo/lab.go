// Package topo holds a lab as plain Go data: the resources a script asked
// for, where in the script it asked for each, and the checks that can be made
// before anything touches the kernel. It knows no Starlark and makes no
// system calls; interp and builtins fill a Lab, kernel applies it, and the
// renderers in this package print it.
package topo

import (
	"fmt"
	"net"
	"net/netip"
)

// Host names the namespace nsscript itself runs in. Resources whose NS is
// Host live there; Host is never created or deleted.
const Host = ""

// Pos is the place in a script of the call that declared a resource.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	if p.File == "" {
		return "-"
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Netns is a named network namespace, visible to `ip netns`, with its
// loopback up.
type Netns struct {
	Name string
	Pos  Pos
}

// Bridge is a Linux bridge, up, in namespace NS.
type Bridge struct {
	Name string
	NS   string
	MTU  int // 0: the kernel's default
	// MAC is the bridge's link-layer address: given by the script, or
	// derived by AddBridge (see DeriveMAC). Set at creation, a bridge keeps
	// it whatever ports join.
	MAC net.HardwareAddr
	Pos Pos
}

// End is one end of a veth pair: an interface Name in namespace NS,
// enslaved to the bridge Master (in the same namespace) when Master is set.
type End struct {
	NS     string
	Name   string
	Master string
	// MAC is the end's link-layer address: given by the script, or derived
	// by AddVeth (see DeriveMAC).
	MAC net.HardwareAddr
}

// VethQueues is the number of transmit and of receive queues of every veth
// end. The kernel's default is one of each per possible CPU, for XDP and
// GRO to spread a veth's traffic over CPUs; a lab's veths carry a
// namespace's own traffic, which needs one, and every queue is a
// structure and a sysfs directory to create and destroy: on a 64-CPU
// machine a 1,000-pair lab would make 256,000 of them.
const VethQueues = 1

// Veth is a veth pair with both ends up, each with VethQueues queues.
type Veth struct {
	A, B End
	MTU  int // 0: the kernel's default
	Pos  Pos
}

// Addr is an address on an interface. Prefix keeps the host bits:
// 10.0.1.2/24 is address 10.0.1.2 in subnet 10.0.1.0/24.
type Addr struct {
	NS     string
	Dev    string
	Prefix netip.Prefix
	Pos    Pos
}

// Route is a route in namespace NS. Dst is 0.0.0.0/0 or ::/0 for a default
// route. At least one of Via and Dev is set.
type Route struct {
	NS     string
	Dst    netip.Prefix
	Via    netip.Addr // zero: a route straight onto Dev
	Dev    string
	Metric int // 0: the kernel's default
	Pos    Pos
}

// Masquerade is the rule `iptables -t nat -A POSTROUTING -s Src [-o Out] -j
// MASQUERADE` in namespace NS, together with IPv4 forwarding on in NS.
type Masquerade struct {
	NS  string
	Src netip.Prefix
	Out string
	Pos Pos
}

// Sysctl sets Key (dotted, as sysctl(8) spells it) to Value in namespace NS.
type Sysctl struct {
	NS    string
	Key   string
	Value string
	Pos   Pos
}

// Neighbor is a permanent neighbour entry (ARP for IPv4, NDP for IPv6):
// in namespace NS, address Addr is reached on interface Dev at link-layer
// address MAC, with no resolution and no expiry. The kernel's neighbour
// tables are shared by all namespaces and limited in size (gc_thresh3,
// 1024 entries by default); permanent entries do not count against that
// limit, so a large lab that has them resolves every pair.
type Neighbor struct {
	NS   string
	Dev  string
	Addr netip.Addr
	MAC  net.HardwareAddr
	Pos  Pos
}

// Lab is everything a script declared, in declaration order within each
// kind. Slices only grow while a script runs; Mark and Since let the caller
// apply a lab step by step.
type Lab struct {
	Name        string
	Netns       []*Netns
	Bridges     []*Bridge
	Veths       []*Veth
	Addrs       []*Addr
	Routes      []*Route
	Masquerades []*Masquerade
	Sysctls     []*Sysctl
	Neighbors   []*Neighbor

	index *index
}

// Mark is a point in the growth of a lab: how many resources of each kind it
// held then.
type Mark [8]int

// Mark returns the lab's current size.
func (l *Lab) Mark() Mark {
	return Mark{len(l.Netns), len(l.Bridges), len(l.Veths), len(l.Addrs),
		len(l.Routes), len(l.Masquerades), len(l.Sysctls), len(l.Neighbors)}
}

// Since returns a lab holding only what was declared after m. Its resources
// are shared with l, and may refer by name to resources declared before m.
func (l *Lab) Since(m Mark) *Lab {
	return &Lab{
		Name:        l.Name,
		Netns:       l.Netns[m[0]:],
		Bridges:     l.Bridges[m[1]:],
		Veths:       l.Veths[m[2]:],
		Addrs:       l.Addrs[m[3]:],
		Routes:      l.Routes[m[4]:],
		Masquerades: l.Masquerades[m[5]:],
		Sysctls:     l.Sysctls[m[6]:],
		Neighbors:   l.Neighbors[m[7]:],
	}
}

// Truncate forgets everything declared after m.
func (l *Lab) Truncate(m Mark) {
	l.Netns = l.Netns[:m[0]]
	l.Bridges = l.Bridges[:m[1]]
	l.Veths = l.Veths[:m[2]]
	l.Addrs = l.Addrs[:m[3]]
	l.Routes = l.Routes[:m[4]]
	l.Masquerades = l.Masquerades[:m[5]]
	l.Sysctls = l.Sysctls[:m[6]]
	l.Neighbors = l.Neighbors[:m[7]]
	l.index = nil
}

// Empty reports whether the lab declares nothing.
func (l *Lab) Empty() bool { return l.Mark() == Mark{} }

// Counts is the number of resources of each kind, for summaries.
type Counts struct {
	Netns, Bridges, Veths, Addrs, Routes, Masquerades, Sysctls, Neighbors int
}

// Counts returns how many resources of each kind the lab holds.
func (l *Lab) Counts() Counts {
	m := l.Mark()
	return Counts{m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]}
}

// NSName is how messages name namespace ns: "host" for Host.
func NSName(ns string) string {
	if ns == Host {
		return "host"
	}
	return ns
}
