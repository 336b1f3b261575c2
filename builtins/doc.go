// Package builtins is the Starlark surface of nsscript: the functions and
// values a lab script sees. Each builtin checks its arguments and records a
// resource into the thread's lab (see State); nothing here touches the
// kernel. A Backend applies the recorded lab when a builtin must observe the
// live network (exec) and when the script ends.
//
// Predeclared values and functions, in Python-like signatures:
//
//	host
//
// The root network namespace, a Netns. It always exists; nsscript never
// creates or deletes it.
//
//	netns(name) -> Netns
//
// A named network namespace (visible to `ip netns`) with its loopback up.
// name is 1 to 64 bytes of letters, digits, '-', '_' and '.'.
//
//	bridge(name, addr=None, ns=host, mtu=None) -> Bridge
//
// A Linux bridge in namespace ns, up once its ports exist. addr is a CIDR
// string such as "192.168.15.5/24", or a list of them, for the bridge's own
// addresses. mtu is 68 to 65535; None keeps the kernel's default.
//
//	veth(a, b, name=None, peer=None, addr=None, peer_addr=None, mtu=None) -> Veth
//
// A veth pair with one end in a and the other in b. Each of a and b is a
// Netns (host included) or a Bridge: an end given a Bridge is a port of that
// bridge, in the bridge's namespace. name and peer name the ends in a and b;
// when omitted they are derived as "<local>-<remote>", where the local part
// is the namespace's name ("host" for host) or the bridge's name, shortened
// to 15 bytes and numbered when taken: veth(red, blue) makes "red-blue" in
// red and "blue-red" in blue; veth(red, br0) makes "red-br0" in red and
// "br0-red" on br0. addr and peer_addr are a CIDR string or a list of them
// for each end. Both ends are up.
//
//	addr(iface, cidr)
//
// Adds an address, a CIDR string or a list of them, to a Bridge or to a
// veth end (an Iface, such as v.a).
//
//	route(ns, dst, via=None, dev=None, metric=None)
//
// A route in namespace ns. dst is "default", a CIDR network such as
// "10.0.2.0/24" (host bits zero), or one address. "default" is IPv4 unless
// via is an IPv6 address; "default6" and "::/0" are the IPv6 default. via is
// the gateway address, which must lie in a subnet of an address of ns;
// dev is an interface name, a Bridge or an Iface in ns. At least one of via
// and dev is needed. metric is an int, 0 or more.
//
//	masquerade(src, ns=host, out=None)
//
// The rule `iptables -t nat -A POSTROUTING -s src [-o out] -j MASQUERADE`
// in namespace ns, and IPv4 forwarding on in ns. src is an IPv4 CIDR
// network; out is an interface name, a Bridge or an Iface.
//
//	sysctl(ns, key, value)
//
// Sets a network sysctl in namespace ns: key as sysctl(8) writes it
// ("net.ipv4.ip_forward"), value a string, int or bool (True is "1").
//
//	exec(ns, cmd, check=True) -> ExecResult
//
// Runs a command in namespace ns, after applying everything declared so
// far. cmd is a string, run with /bin/sh -c, or a list of strings, run as
// it is. The result has .stdout and .stderr (strings) and .code (int). When
// check is true, a non-zero exit code fails the script with the command,
// its exit code and its stderr.
//
//	show()
//	net()
//
// Prints the lab declared so far as tables: each namespace's interfaces
// with their kind, veth peer, bridge and addresses, then routes, NAT rules
// and sysctls. net is another name for show.
//
//	help(x=None)
//
// Prints one line about each builtin, or with x (a builtin, its name, a lab
// value or a function of the script) its signature, its parameters and an
// example. The texts are in Docs.
//
// Values:
//
//	Netns    .name          "host" for host
//	Bridge   .name .ns .addrs
//	Veth     .a .b          the two ends, Ifaces
//	Iface    .name .ns .peer .addrs .bridge
//	                        a veth end; .peer is the other end, .bridge
//	                        the Bridge it is a port of, or None
//	ExecResult .stdout .stderr .code
//	                        true when .code is 0
//
// .addrs is a list of the CIDR strings declared on the interface so far.
// Namespace parameters take a Netns only, never a name string, so a typo
// is caught where it is made.
package builtins
