package topo

import (
	"net"
	"net/netip"
)

// A segment is a link-layer domain of the lab: the interfaces that reach
// each other without a router. A veth pair joins its two ends; a bridge
// joins itself and every port enslaved to it, so the namespaces whose veth
// peers are ports of one bridge (or of bridges joined by a veth) share a
// segment. The stations of a segment are its interfaces that carry
// addresses: bridges and veth ends that are not bridge ports.

// station is an interface that can carry addresses, with its segment.
type station struct {
	ns, name string
	mac      net.HardwareAddr
	segment  nsName
}

// SegmentNeighbors returns the permanent neighbour entries that the lab
// lacks for every station to reach every other station of its segment
// without ARP or NDP: on each station, one entry for each address of each
// other station of its segment, for the address families the station has
// an address of itself. The entries come station by station in the order
// the lab declares bridges, then veth ends; each gets position pos.
func (l *Lab) SegmentNeighbors(pos Pos) []*Neighbor {
	parent := map[nsName]nsName{}
	var find func(k nsName) nsName
	find = func(k nsName) nsName {
		p, ok := parent[k]
		if !ok || p == k {
			return k
		}
		root := find(p)
		parent[k] = root
		return root
	}
	union := func(a, b nsName) {
		ra, rb := find(a), find(b)
		if ra != rb {
			parent[ra] = rb
		}
	}
	for _, v := range l.Veths {
		a, b := nsName{v.A.NS, v.A.Name}, nsName{v.B.NS, v.B.Name}
		union(a, b)
		for _, e := range []End{v.A, v.B} {
			if e.Master != "" {
				union(nsName{e.NS, e.Name}, nsName{e.NS, e.Master})
			}
		}
	}

	var stations []station
	for _, b := range l.Bridges {
		stations = append(stations, station{b.NS, b.Name, b.MAC, nsName{}})
	}
	for _, v := range l.Veths {
		for _, e := range []End{v.A, v.B} {
			if e.Master == "" {
				stations = append(stations, station{e.NS, e.Name, e.MAC, nsName{}})
			}
		}
	}
	bySegment := map[nsName][]int{}
	for i := range stations {
		s := &stations[i]
		s.segment = find(nsName{s.ns, s.name})
		bySegment[s.segment] = append(bySegment[s.segment], i)
	}

	addrs := map[nsName][]netip.Addr{}
	for _, a := range l.Addrs {
		k := nsName{a.NS, a.Dev}
		addrs[k] = append(addrs[k], a.Prefix.Addr())
	}
	has := func(k nsName, v4 bool) bool {
		for _, a := range addrs[k] {
			if a.Is4() == v4 {
				return true
			}
		}
		return false
	}

	var out []*Neighbor
	for i, s := range stations {
		self := nsName{s.ns, s.name}
		has4, has6 := has(self, true), has(self, false)
		if !has4 && !has6 {
			continue
		}
		// An address the station has itself, or met on another station
		// already, gets no entry.
		seen := map[netip.Addr]bool{}
		for _, a := range addrs[self] {
			seen[a] = true
		}
		for _, j := range bySegment[s.segment] {
			if j == i {
				continue
			}
			o := stations[j]
			for _, a := range addrs[nsName{o.ns, o.name}] {
				if (a.Is4() && !has4) || (a.Is6() && !has6) || seen[a] {
					continue
				}
				seen[a] = true
				if l.LookupNeighbor(s.ns, s.name, a) != nil {
					continue
				}
				out = append(out, &Neighbor{NS: s.ns, Dev: s.name, Addr: a, MAC: o.mac, Pos: pos})
			}
		}
	}
	return out
}
