package topo

import "hash/fnv"

// A lab owns its namespaces and everything in them. Outside them, in the
// host, it marks what it makes, so that tearing it down removes its own
// objects and nothing else.

// RuleComment is the iptables comment that marks the rules of the lab named
// name as its own. It is also the alias of its links in the host, bridge
// ports excepted.
func RuleComment(name string) string { return "nsscript:" + name }

// LinkGroup is the interface group (IFLA_GROUP, `ip link ... group N`) of
// the lab named name's links in the host. Unlike an alias, a group can be
// set in the message that creates a link, so a link is marked from the
// moment it exists: a run killed at any point leaves no unmarked link.
// The number is derived from the name, in [2^30, 2^31), far from the
// small numbers people give groups by hand; `ip link show group N` lists
// a lab's links in the host.
func LinkGroup(name string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(RuleComment(name)))
	return 1<<30 | h.Sum32()&(1<<30-1)
}
