// Package builtins is the Starlark surface of nsscript: the functions and
// values a lab script sees. Each builtin checks its arguments and records a
// resource into the thread's lab (see State); nothing here touches the
// kernel. A Backend applies the recorded lab when a builtin must observe the
// live network (exec, ping, pingall, expect_reach, expect_no_reach) and
// when the script ends.
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
//	bridge(name, addr=None, ns=host, mtu=None, mac=None) -> Bridge
//
// A Linux bridge in namespace ns, up once its ports exist. addr is a CIDR
// string such as "192.168.15.5/24", or a list of them, for the bridge's own
// addresses. mtu is 68 to 65535; None keeps the kernel's default. mac is
// its Ethernet address, such as "02:00:00:00:01:01" (unicast); None derives
// one (see MAC addresses below).
//
//	veth(a, b, name=None, peer=None, addr=None, peer_addr=None, mtu=None, mac=None, peer_mac=None) -> Veth
//
// A veth pair with one end in a and the other in b. Each of a and b is a
// Netns (host included) or a Bridge: an end given a Bridge is a port of that
// bridge, in the bridge's namespace. name and peer name the ends in a and b;
// when omitted they are derived as "<local>-<remote>", where the local part
// is the namespace's name ("host" for host) or the bridge's name, shortened
// to 15 bytes and numbered when taken: veth(red, blue) makes "red-blue" in
// red and "blue-red" in blue; veth(red, br0) makes "red-br0" in red and
// "br0-red" on br0. addr and peer_addr are a CIDR string or a list of them
// for each end; mac and peer_mac their Ethernet addresses (None derives
// them). Both ends are up.
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
//	static_neighbors()
//
// Declares permanent neighbour entries (ARP for IPv4, NDP for IPv6), like
// Mininet's staticArp(): on every station of the lab declared so far (a
// bridge, or a veth end that is not a bridge port), one entry for each
// address of every other station of its segment, for the address families
// the station has an address of. A segment is what a veth pair, a bridge
// and its ports, and bridges joined by veths connect. Calling it again
// after declaring more adds only what is missing. The kernel's neighbour
// tables are shared by all namespaces (the host's included) and hold 1024
// learnt entries by default (net.ipv4.neigh.default.gc_thresh3): a full
// mesh of more than about 32 namespaces on one segment cannot resolve all
// its pairs, and starves the host meanwhile. Permanent entries do not
// count against that limit and need no resolution at all. n stations on
// one segment take n×(n−1) entries per address family: 19,800 for 100
// namespaces with IPv4 and IPv6, applied in about a third of a second. In
// the dry run they are `ip -n NS neigh replace ADDR lladdr MAC dev IF nud
// permanent`.
//
//	ping(src, dst, count=1, timeout="1s") -> bool
//
// Applies everything declared so far, then sends count ICMP (or ICMPv6)
// echo requests from namespace src to dst, one after the other, each
// waiting up to timeout for its reply, and reports whether any was
// answered. dst is an address string ("10.0.0.2"; a CIDR is taken for its
// address; a link-local IPv6 one needs a %zone), a Netns, a Bridge or an
// Iface, meaning its first declared address (IPv6 link-local ones
// skipped). timeout is a duration string ("1s", "250ms") or a number of
// seconds, at most a minute; count is 1 to 100. nsscript sends the
// requests itself through raw sockets in src; no ping binary is run. A
// request the kernel refuses to send (no route; a firewall's verdict on
// output) counts as lost. A probe that cannot run at all (src gone, a
// link-local address without zone) fails the script. In the dry run it is
// `ip netns exec SRC ping -c COUNT -W SECS DST`, and answered.
//
//	pingall(nodes=None, count=1, timeout="1s") -> Reachability
//
// Applies everything declared so far, then has every namespace of nodes (a
// list of Netns; by default every namespace of the lab that has an
// address) ping the first address of every other, all ordered pairs
// concurrently with a bounded number in flight: 9,900 pairs of 100
// namespaces take about a tenth of a second. The result is true when every
// pair answered, and prints as Mininet's pingall does:
//
//	h1 -> h2 h3
//	h2 -> h1 X
//	h3 -> h1 X
//	*** Results: 33% dropped (4/6 received)
//
// Its attributes are listed under Values below.
//
//	expect_reach(src, dst, count=1, timeout="1s")
//	expect_no_reach(src, dst, count=1, timeout="1s")
//
// Assertions: apply everything declared so far, probe as ping does, and
// fail the script, at the line of the call, unless every pair answers
// (expect_reach: at least one of its count requests) or no pair does
// (expect_no_reach: isolation, by a firewall or a missing route). src is
// a Netns or a list of them, dst anything ping takes or a list of those;
// every pair of one source and one destination is probed at once, except
// a namespace with itself when either side is a list. The error names each
// failing pair and what it saw:
//
//	lab.star:9:13: expect_reach: red → 10.0.0.9: 0 of 1 echo requests answered within 1s (sending failed: network is unreachable)
//
// expect_no_reach waits the whole timeout for every pair that gets no
// answer; a short one ("200ms") keeps tests fast. In the dry run,
// expect_reach is the ping line (which stops a `set -e` script when it
// fails) and expect_no_reach `! PING-LINE || exit 1`. `nsscript test` runs
// scripts with such checks, each in a throw-away sandbox.
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
//	Bridge   .name .ns .addrs .mac
//	Veth     .a .b          the two ends, Ifaces
//	Iface    .name .ns .peer .addrs .bridge .mac
//	                        a veth end; .peer is the other end, .bridge
//	                        the Bridge it is a port of, or None
//	ExecResult .stdout .stderr .code
//	                        true when .code is 0
//	Reachability .sent .received .pairs .failed
//	                        what pingall found: echo requests sent and
//	                        answered, pairs probed, and the (src, dst)
//	                        name pairs that got no answer; true when
//	                        every pair answered
//
// .addrs is a list of the CIDR strings declared on the interface so far;
// .mac its Ethernet address, such as "8a:03:10:3d:5c:46".
//
// MAC addresses: every bridge and veth end gets a fixed Ethernet address,
// given with mac= or derived from the lab's name, the namespace's and the
// interface's (a locally administered unicast address). The same script
// builds the same link layer on every run, so static_neighbors() can name
// it beforehand, and IPv6 link-local addresses are the same every time.
// Namespace parameters take a Netns only, never a name string, so a typo
// is caught where it is made.
package builtins
