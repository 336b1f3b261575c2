// Package kernel applies a topo.Lab to Linux, in-process, and removes it
// again: network namespaces, bridges, veth pairs, addresses, routes,
// permanent neighbour entries, sysctls and masquerade rules. Everything
// goes through netlink and system calls; the only program it runs is
// iptables(8), for masquerade rules. Probe checks reachability with ICMP
// echo requests sent from inside the lab's namespaces (package icmp).
//
// # Use
//
// Open takes a lab's lock and starts its journal; Sync applies whatever the
// lab declared since the previous Sync (a script calls it at its end and
// before each exec() or ping()); Exec runs a command in one of the lab's
// namespaces; Probe sends echo requests between them, many pairs at once;
// Close marks the lab up. On failure, Abort undoes the whole
// run and RollbackTo undoes everything after a Savepoint (the REPL's undo of
// one failed statement). Down tears a lab down from its journal, from
// another process, at any time, even after the run that built it was
// killed; List tells which labs are up.
//
// # State and journal
//
// Each lab has a directory <StateDir>/<lab>/ holding:
//
//   - lock: flock(2)ed by the process applying or removing the lab, so two
//     runs of one lab cannot race.
//   - meta.json: script, vars, pid, start and finish times, counts.
//   - journal: one JSON object per line, appended before each change is
//     made (write-ahead), so that a process killed at any moment leaves a
//     journal that names everything it may have created. A record says what
//     is about to be made: {"seq":3,"op":"veth","pos":"lab.star:7:1",
//     "ns":"red","name":"red-br0","peer":"br0-red"}. Ops are netns, bridge,
//     veth, addr, route, sysctl (with "old", the value read before writing),
//     iptables (with the exact rule spec) and neigh (the permanent neighbour
//     entries of one run of them on one interface: "neighs", each an
//     address and its lladdr). A sysctl that has the value asked for
//     already is neither written nor journaled. Two ops amend earlier ones:
//     {"op":"fail","ref":N} says change N was not made (its system call
//     failed), and {"op":"rollback","ref":N} says every change after N has
//     been undone. A record is live unless amended so.
//
// The state directory is /run/nsscript, a tmpfs, like the kernel objects it
// describes: both survive a killed process and neither survives a reboot,
// so the journal is not fsync'ed.
//
// # Ownership
//
// Nothing is reused: a namespace file /run/netns/NAME, an interface name,
// an address or a route that already exists is an error naming the script
// position that asked for it, and the existing object is left alone.
//
// Undoing relies on ownership as follows. A namespace the lab created is
// its own with everything inside it: deleting the namespace (unmounting
// /run/netns/NAME, as `ip netns del` does) removes its links, addresses,
// routes, rules and sysctls at once, so these are not undone one by one.
// In namespaces the lab did not create (the host), every interface the lab
// creates is born in the lab's interface group (IFLA_GROUP in the creating
// message: topo.LinkGroup, a number derived from the lab's name), so no
// moment exists, even in a run killed half-way, when a link of the lab's
// is unmarked. Every one but a bridge's port (known by its bridge) also
// gets the alias (IFLA_IFALIAS) "nsscript:LAB", the same text as its
// iptables comment, for people to read; the kernel cannot set an alias in
// the creating message, so the alias rides with the next write to the
// host's socket. An interface is deleted only when it carries the lab's
// group or alias. Addresses and routes are deleted by their exact
// specification, iptables rules by their exact rule spec (which includes
// `-m comment --comment nsscript:LAB`), and sysctls are written back to the
// value recorded before the lab changed them. Permanent neighbour entries
// are only ever made on the lab's own interfaces, so they replace whatever
// the kernel had learnt there (which came from the lab's own traffic);
// undoing deletes them entry by entry where their interface outlives the
// undo (the host, or a namespace kept by RollbackTo), and otherwise lets
// them go with it.
//
// # Link-layer addresses
//
// Every bridge and veth end is created with the MAC address the lab gives
// it (IFLA_ADDRESS in the creating message, for a veth's peer too): one the
// script chose, or one derived from the names of the lab, the namespace
// and the interface (topo.DeriveMAC). A bridge so created keeps it
// whatever ports join. So permanent neighbour entries can name their
// peers' addresses before those exist, and every run, and the script
// --dry-run prints, builds the same link layer.
//
// # Order
//
// Sync applies in this order: namespaces (loopback up); bridges, created
// down; veth pairs, each made by one RTM_NEWLINK sent from the side of the
// end that joins a bridge, with IFLA_MASTER, its MAC, MTU and queue counts
// (one transmit and one receive queue per end: topo.VethQueues) in the same
// message and the peer born in its namespace (IFLA_NET_NS_FD), that end
// created up unless the Sync sets a sysctl in either namespace; sysctls
// (before addresses, since some decide what adding an address does);
// addresses, IPv6 ones with IFA_F_NODAD so they are usable at once; veth
// ends up; bridges up; permanent neighbour entries (after the links are
// up, since bringing a link down flushes its entries, permanent ones
// included); routes; masquerade (ip_forward on in the namespace, then the
// rule); and last a wait until the lab is ready. Enslaving a port costs
// more the more ports an up bridge has, so bridges come up only once all
// their ports are attached.
//
// Requests go through one raw rtnetlink socket per namespace (rtnl.go)
// with a queue. Creating a veth pair asks the kernel to echo the new
// link, which tells the indexes of both ends without looking them up.
// Addresses, link ups, neighbour entries and routes are queued per
// namespace and sent in writes of up to 32 requests at the end of the
// routes step, the lab's namespaces first and the host last, so the
// bridges in the host come up after every port. A request that fails
// marks its journal record as not made, so undoing never deletes a
// matching object that is not the lab's; requests still queued when a Sync
// fails are discarded and marked the same way.
//
// # Ready when Sync returns
//
// A link that is up is not usable yet: its carrier event goes through the
// kernel's linkwatch work queue, which activates the queueing discipline
// (dropping every packet until then) and may defer the event by up to a
// second (it does for the second end of a veth pair to come up). IPv6 then
// joins each address's solicited-node group in another work item, and
// neighbour solicitations for it are dropped until it has. A lost packet
// costs a second of retransmission timeout, so Sync ends by waiting for
// both: it asks for each link it brought up by name until its operational
// state is up (recent kernels run a link's pending linkwatch work when one
// asks for that link alone: linkwatch_sync_dev in rtnl_getlink; on older
// ones this is a plain poll), the first time at the end of its namespace's
// last batch; a bridge's many ports in the host are looked at in one dump
// first, and asked for by name only if not running yet. Then it reads
// /proc/net/igmp6 in each namespace until every IPv6 address has joined
// its group. Duplicate address detection is off for every link the lab
// creates (net.ipv6.conf.default.accept_dad=0 in its namespaces, set
// before any link is made there, and accept_dad=0 on each of its links in
// the host but bridge ports, whose own addresses are never used), so
// link-local addresses, and routes through them, are usable at once as
// well. Sysctls are written through procfs instances of the package's own
// (procsys.go): through /proc, each lookup costs more the more namespaces
// exist. These settings belong to the lab's own namespaces and links
// and go with them; they are not journaled.
//
// Down undoes live records in reverse order, skipping what a namespace it
// deletes takes with it, then deletes the namespaces, then waits until the
// interfaces that die with them (veth peers in the host) are really gone:
// the kernel tears namespaces down asynchronously.
//
// # Threads and namespaces
//
// Netlink goes through handles bound to a namespace (one NETLINK_ROUTE
// socket each, the only descriptor a namespace keeps open), opened during a
// Sync and closed at its end. A socket belongs
// to the namespace of the thread that created it, and creating a namespace,
// writing /proc/sys or starting a program inside one also needs a thread in
// that namespace. All of that happens on a fresh goroutine locked to its OS
// thread (runtime.LockOSThread); it returns to the namespace the process
// started in and unlocks only when that succeeded, otherwise the goroutine
// ends locked and the Go runtime discards the thread. No other goroutine
// ever changes namespace.
package kernel
