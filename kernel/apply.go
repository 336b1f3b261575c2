package kernel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"

	"github.com/coreos/go-iptables/iptables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"nsscript/topo"
)

// ipForward is the sysctl masquerade turns on.
const ipForward = "net.ipv4.ip_forward"

// syncer applies the resources of one Sync.
type syncer struct {
	a     *Applier
	lab   *topo.Lab // the whole lab, for lookups
	todo  *topo.Lab // what this Sync applies
	conns conns
	// order lists the open namespaces in the order they were opened, the
	// host first: flushAll sends their queued requests in that order.
	order []string
	pr    progress
	// upNow holds the links created up, which linksUp skips.
	upNow map[ifKey]bool
	// hostNames holds the names of the host's links, listed once per Sync
	// before creating links there, to refuse foreign names before
	// journaling anything.
	hostNames map[string]bool
	// sys reads and writes sysctls, on whichever thread is in the
	// namespace they belong to; one step at a time uses it.
	sys procSys
	// expected holds the links this Sync brings up, starting those of them
	// that were not running yet when first asked, lastOper the last
	// operational state seen of one (see checkRunning).
	expected   []upLink
	starting   []upLink
	hostChecks []upLink
	lastOper   uint8
}

func (s *syncer) run(ctx context.Context) error {
	steps := []func(context.Context) error{
		s.createNetns,
		s.openConns,
		s.createBridges,
		s.createVeths,
		s.setSysctls,
		s.addAddrs,
		s.linksUp,
		s.addNeighbors,
		s.addRoutes,
		s.addMasquerades,
		s.waitReady,
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// begin journals a change about to be made. When the journal cannot be
// written, the change must not be made.
func (s *syncer) begin(r record) (int, error) {
	seq, err := s.a.j.add(r)
	if err != nil {
		s.a.j.fail(seq)
	}
	return seq, err
}

func (s *syncer) createNetns(ctx context.Context) error {
	if len(s.todo.Netns) == 0 {
		return nil
	}
	if err := prepareNetnsDir(); err != nil {
		n := s.todo.Netns[0]
		return &Error{n.Pos, "netns " + n.Name, why(err)}
	}
	// One thread makes every namespace in turn: unshare moves it into a
	// new one, which a bind mount names, and whose netlink socket is
	// opened while the thread is there.
	return onThread(func(t *thread) error {
		for _, n := range s.todo.Netns {
			if err := ctx.Err(); err != nil {
				return err
			}
			c, err := s.newNetns(t, n)
			if err != nil {
				return &Error{n.Pos, "netns " + n.Name, why(err)}
			}
			s.conns[n.Name] = c
			s.order = append(s.order, n.Name)
			s.pr.tick(&s.pr.p.Netns, 1)
		}
		return nil
	})
}

func (s *syncer) newNetns(t *thread, n *topo.Netns) (*nsConn, error) {
	path := netnsPath(n.Name)
	if _, err := os.Lstat(path); err == nil {
		return nil, taken(path)
	}
	seq, err := s.begin(record{Op: opNetns, Pos: n.Pos.String(), Name: n.Name})
	if err != nil {
		return nil, err
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0)
	if err != nil {
		s.a.j.fail(seq)
		if errors.Is(err, unix.EEXIST) {
			return nil, taken(path)
		}
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	unix.Close(fd)
	if err := t.unshare(); err != nil {
		os.Remove(path)
		s.a.j.fail(seq)
		return nil, err
	}
	if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
		os.Remove(path)
		s.a.j.fail(seq)
		return nil, fmt.Errorf("bind-mounting the new namespace on %s: %w", path, err)
	}
	// The namespace exists now; what fails below leaves it to be undone.
	c := &nsConn{ns: n.Name}
	if c.rt, err = dialRoute(); err != nil {
		return nil, fmt.Errorf("opening netlink in the new namespace: %w", why(err))
	}
	// Links made here get no duplicate address detection: their
	// link-local addresses are usable at once.
	if err := s.sys.noDAD("default"); err != nil {
		c.close()
		return nil, fmt.Errorf("turning duplicate address detection off: %w", err)
	}
	// The loopback is always the first interface of a namespace. It goes
	// up with the namespace's next batch of requests.
	c.rt.add(call{req: setLinkReq(1, "", true, ""), fail: func(err error) error {
		return &Error{n.Pos, "netns " + n.Name, fmt.Errorf("bringing lo up: %w", why(err))}
	}})
	return c, nil
}

// openConns opens every namespace this Sync touches that is not open yet.
func (s *syncer) openConns(context.Context) error {
	names := []string{topo.Host}
	t := s.todo
	for _, b := range t.Bridges {
		names = append(names, b.NS)
	}
	for _, v := range t.Veths {
		names = append(names, v.A.NS, v.B.NS)
	}
	for _, x := range t.Addrs {
		names = append(names, x.NS)
	}
	for _, x := range t.Routes {
		names = append(names, x.NS)
	}
	for _, x := range t.Masquerades {
		names = append(names, x.NS)
	}
	for _, x := range t.Sysctls {
		names = append(names, x.NS)
	}
	for _, x := range t.Neighbors {
		names = append(names, x.NS)
	}
	var opening []string
	for _, n := range names {
		if s.conns[n] == nil && !slices.Contains(opening, n) {
			opening = append(opening, n)
		}
	}
	if err := s.conns.open(opening, false, true); err != nil {
		return err
	}
	// The host first: its bridges must exist before the veths that join
	// them, and lab namespaces may be flushed before it.
	s.order = append(opening, s.order...)
	return nil
}

// flushAll sends the requests queued for every namespace: the lab's own
// namespaces first, in the order they were made, the host last, so that
// bridges come up once their ports on the other side are up.
func (s *syncer) flushAll(ctx context.Context) error {
	for _, ns := range s.order[1:] {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.conns[ns].rt.flush(); err != nil {
			return err
		}
	}
	for _, ns := range s.order[:1] {
		if err := s.conns[ns].rt.flush(); err != nil {
			return err
		}
	}
	return nil
}

// checkFree refuses an interface name that something else has in the host.
// In the lab's own namespaces every name is the lab's, which topo keeps
// unique.
func (s *syncer) checkFree(ns, name string) error {
	if ns != topo.Host {
		return nil
	}
	if s.hostNames == nil {
		links, err := s.conns[topo.Host].rt.links()
		if err != nil {
			return fmt.Errorf("listing the host's interfaces: %w", err)
		}
		s.hostNames = map[string]bool{}
		for name := range links {
			s.hostNames[name] = true
		}
	}
	if s.hostNames[name] {
		return taken(fmt.Sprintf("interface %s in the host", name))
	}
	return nil
}

// index returns the index of interface name in ns.
func (s *syncer) index(ns, name string) (int, error) {
	if i, ok := s.a.ifindex[ifKey{ns, name}]; ok {
		return i, nil
	}
	l, err := s.conns[ns].rt.getLink(name)
	if err != nil {
		if errors.Is(err, unix.ENODEV) {
			return 0, explain(unix.ENODEV, "interface %s is missing from %s; was it deleted behind nsscript's back?", name, where(ns))
		}
		return 0, fmt.Errorf("looking up interface %s in %s: %w", name, where(ns), err)
	}
	s.a.ifindex[ifKey{ns, name}] = l.index
	return l.index, nil
}

// group is the interface group of the lab's links in ns: its own in the
// host, the default in its namespaces.
func (s *syncer) group(ns string) uint32 {
	if ns != topo.Host {
		return 0
	}
	return s.a.group
}

// mark finishes a link the lab made in the host, other than a bridge's
// port: it gets the lab's alias, for people to see whose it is (its group,
// set when it was created, is what proves it the lab's), and duplicate
// address detection goes off on it, as the lab's namespaces do for all
// their links. A port is left as it was made: it is known by its bridge
// (which has the alias), what arrives on it goes up through the bridge,
// so its own link-local address is never used, and every change to a
// link runs the kernel's notifiers (the bridge's among them), which made
// an alias cost 0.1 ms per port of a big bridge.
func (s *syncer) mark(ns, name string, port bool) error {
	if ns != topo.Host || port {
		return nil
	}
	// The alias rides with the host's next write.
	s.conns[ns].rt.add(call{req: setLinkReq(0, name, false, s.a.alias), fail: func(err error) error {
		return fmt.Errorf("interface %s: setting its alias %q: %w", name, s.a.alias, why(err))
	}})
	if err := s.sys.noDAD(name); err != nil {
		return fmt.Errorf("turning duplicate address detection off: %w", err)
	}
	return nil
}

func linkExists(err error, name, ns string) error {
	if errors.Is(err, unix.EEXIST) {
		return taken(fmt.Sprintf("interface %s in %s", name, where(ns)))
	}
	return why(err)
}

func (s *syncer) createBridges(ctx context.Context) error {
	for _, b := range s.todo.Bridges {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.bridge(b); err != nil {
			return &Error{b.Pos, fmt.Sprintf("bridge %s (%s)", b.Name, where(b.NS)), err}
		}
		s.pr.tick(&s.pr.p.Links, 1)
	}
	return nil
}

func (s *syncer) bridge(b *topo.Bridge) error {
	if err := s.checkFree(b.NS, b.Name); err != nil {
		return err
	}
	seq, err := s.begin(record{Op: opBridge, Pos: b.Pos.String(), NS: b.NS, Name: b.Name})
	if err != nil {
		return err
	}
	spec := linkSpec{name: b.Name, mac: b.MAC, mtu: b.MTU, nsFD: -1, group: s.group(b.NS)}
	err = s.conns[b.NS].rt.do(call{req: newLinkReq(spec, "bridge", nil), fail: func(err error) error {
		s.a.j.fail(seq)
		return linkExists(err, b.Name, b.NS)
	}})
	if err != nil {
		return err
	}
	return s.mark(b.NS, b.Name, false)
}

func (s *syncer) createVeths(ctx context.Context) error {
	for _, v := range s.todo.Veths {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.veth(v); err != nil {
			return &Error{v.Pos, fmt.Sprintf("veth %s (%s)", v.A.Name, where(v.A.NS)), err}
		}
		s.pr.tick(&s.pr.p.Links, 2)
	}
	return nil
}

func (s *syncer) veth(v *topo.Veth) error {
	for _, e := range []topo.End{v.A, v.B} {
		if err := s.checkFree(e.NS, e.Name); err != nil {
			return err
		}
	}
	// One message makes the pair. It is sent in the namespace of the end
	// that joins a bridge, if one does, so that it joins in that message
	// (IFLA_MASTER applies to the link the message creates, not to the
	// peer); the peer is born in its namespace (IFLA_NET_NS_FD), so its
	// name only needs to be free there and nothing is moved later.
	main, peer := v.A, v.B
	if main.Master == "" && peer.Master != "" {
		main, peer = peer, main
	}
	master := 0
	if main.Master != "" {
		var err error
		if master, err = s.index(main.NS, main.Master); err != nil {
			return err
		}
	}
	// The end sent from comes up in the same message, unless a sysctl of
	// this Sync may have to be set first. It has no carrier until its peer
	// (which cannot be created up) comes up in linksUp, and so no
	// link-local address until then either.
	up := !s.hasSysctls(main.NS) && !s.hasSysctls(peer.NS)
	seq, err := s.begin(record{Op: opVeth, Pos: v.Pos.String(), NS: v.A.NS, Name: v.A.Name, PeerNS: v.B.NS, Peer: v.B.Name})
	if err != nil {
		return err
	}
	cm := s.conns[main.NS]
	mspec := linkSpec{name: main.Name, mac: main.MAC, mtu: v.MTU, master: master, up: up, nsFD: -1, queues: topo.VethQueues, group: s.group(main.NS)}
	pspec := linkSpec{name: peer.Name, mac: peer.MAC, mtu: v.MTU, nsFD: -1, queues: topo.VethQueues, group: s.group(peer.NS)}
	// A kernel that honours NLM_F_ECHO on link creation answers with the
	// new link, its peer's index in IFLA_LINK: neither end needs looking
	// up later. On one that does not, index looks them up.
	echo := func(typ uint16, data []byte) {
		if li := parseLink(typ, data); li.index != 0 && li.link != 0 {
			s.a.ifindex[ifKey{main.NS, main.Name}] = li.index
			s.a.ifindex[ifKey{peer.NS, peer.Name}] = li.link
		}
	}
	create := func() error {
		req := newLinkReq(mspec, "veth", &pspec)
		req.Flags |= unix.NLM_F_ECHO
		return cm.rt.do(call{req: req, reply: echo, fail: func(err error) error {
			s.a.j.fail(seq)
			if !errors.Is(err, unix.EEXIST) {
				return why(err)
			}
			if _, lerr := cm.rt.getLink(main.Name); lerr == nil {
				return linkExists(err, main.Name, main.NS)
			}
			return linkExists(err, peer.Name, peer.NS)
		}})
	}
	if peer.NS != main.NS {
		err = s.conns[peer.NS].withFD(func(fd int) error {
			pspec.nsFD = fd
			return create()
		})
	} else {
		err = create()
	}
	if err != nil {
		return err
	}
	if up {
		s.upNow[ifKey{main.NS, main.Name}] = true
	}
	for _, e := range []topo.End{main, peer} {
		if err := s.mark(e.NS, e.Name, e.Master != ""); err != nil {
			return err
		}
	}
	if peer.Master != "" {
		// Both ends join a bridge: the peer joins its own afterwards.
		index, err := s.index(peer.NS, peer.Name)
		if err != nil {
			return err
		}
		pmaster, err := s.index(peer.NS, peer.Master)
		if err != nil {
			return err
		}
		req := setLinkReq(index, "", false, "")
		req.AddData(nl.NewRtAttr(unix.IFLA_MASTER, nl.Uint32Attr(uint32(pmaster))))
		if err := s.conns[peer.NS].rt.do(call{req: req}); err != nil {
			return fmt.Errorf("attaching %s to bridge %s: %w", peer.Name, peer.Master, why(err))
		}
	}
	return nil
}

// hasSysctls reports whether this Sync sets a sysctl in ns.
func (s *syncer) hasSysctls(ns string) bool {
	for _, sc := range s.todo.Sysctls {
		if sc.NS == ns {
			return true
		}
	}
	return false
}

// inEach calls fn(i) for every i with the calling thread in namespace
// nss[i]: first those of the host, then, on one locked thread that visits
// each namespace once, the others. The order of calls within a namespace is
// kept.
func (s *syncer) inEach(ctx context.Context, nss []string, fn func(i int) error) error {
	var order []string
	groups := map[string][]int{}
	for i, ns := range nss {
		if groups[ns] == nil {
			order = append(order, ns)
		}
		groups[ns] = append(groups[ns], i)
	}
	for _, i := range groups[topo.Host] {
		if err := fn(i); err != nil {
			return err
		}
	}
	if len(order) == 1 && order[0] == topo.Host {
		return nil
	}
	return onThread(func(t *thread) error {
		for _, ns := range order {
			if ns == topo.Host {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			err := s.conns[ns].withFD(func(fd int) error {
				if err := t.enter(fd); err != nil {
					return err
				}
				for _, i := range groups[ns] {
					if err := fn(i); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *syncer) setSysctls(ctx context.Context) error {
	scs := s.todo.Sysctls
	if len(scs) == 0 {
		return nil
	}
	// What is queued (loopbacks up) comes first, as in the lab's order.
	if err := s.flushAll(ctx); err != nil {
		return err
	}
	nss := make([]string, len(scs))
	for i, sc := range scs {
		nss[i] = sc.NS
	}
	return s.inEach(ctx, nss, func(i int) error {
		sc := scs[i]
		if err := s.sysctl(sc.NS, sc.Key, sc.Value, sc.Pos); err != nil {
			return &Error{sc.Pos, fmt.Sprintf("sysctl %s=%s (%s)", sc.Key, sc.Value, where(sc.NS)), err}
		}
		return nil
	})
}

// sysctl sets key to value in the calling thread's namespace ns, recording
// the value it had first. A key that has the value already is left alone.
func (s *syncer) sysctl(ns, key, value string, pos topo.Pos) error {
	old, err := s.sys.read(key)
	if errors.Is(err, unix.ENOENT) {
		return explain(err, "there is no such sysctl in %s (%s does not exist); check the key, and that any interface it names exists by then", where(ns), sysctlPath(key))
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", sysctlPath(key), err)
	}
	if old == value {
		return nil
	}
	seq, err := s.begin(record{Op: opSysctl, Pos: pos.String(), NS: ns, Key: key, Old: &old, Value: value})
	if err != nil {
		return err
	}
	if err := s.sys.write(key, value); err != nil {
		s.a.j.fail(seq)
		if errors.Is(err, unix.EINVAL) {
			return explain(err, "the kernel refused the value %q (it was %q): %v", value, old, err)
		}
		return fmt.Errorf("writing %s: %w", sysctlPath(key), why(err))
	}
	return nil
}

func (s *syncer) addAddrs(ctx context.Context) error {
	for _, ad := range s.todo.Addrs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.addr(ad); err != nil {
			return &Error{ad.Pos, fmt.Sprintf("address %s on %s (%s)", ad.Prefix, ad.Dev, where(ad.NS)), err}
		}
		s.pr.tick(&s.pr.p.Addrs, 1)
	}
	return nil
}

func (s *syncer) addr(ad *topo.Addr) error {
	index, err := s.index(ad.NS, ad.Dev)
	if err != nil {
		return err
	}
	seq, err := s.begin(record{Op: opAddr, Pos: ad.Pos.String(), NS: ad.NS, Dev: ad.Dev, Addr: ad.Prefix.String()})
	if err != nil {
		return err
	}
	s.conns[ad.NS].rt.add(call{req: addrReq(index, ad.Prefix), fail: func(err error) error {
		s.a.j.fail(seq)
		if errors.Is(err, unix.EEXIST) {
			err = taken(fmt.Sprintf("address %s on %s", ad.Prefix.Addr(), ad.Dev))
		} else {
			err = why(err)
		}
		return &Error{ad.Pos, fmt.Sprintf("address %s on %s (%s)", ad.Prefix, ad.Dev, where(ad.NS)), err}
	}})
	return nil
}

// nlAddr is the netlink form of an interface address. IPv6 addresses skip
// duplicate address detection, so they are usable at once.
func nlAddr(p netip.Prefix) *netlink.Addr {
	a := &netlink.Addr{IPNet: ipNet(p)}
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	return a
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// linksUp brings up the veth ends, then the bridges, now that every port is
// attached.
func (s *syncer) linksUp(ctx context.Context) error {
	up := func(ns, name string, pos topo.Pos, what string) {
		if s.upNow[ifKey{ns, name}] {
			return
		}
		s.conns[ns].rt.add(call{req: setLinkReq(s.a.ifindex[ifKey{ns, name}], name, true, ""), fail: func(err error) error {
			return &Error{pos, fmt.Sprintf("%s %s (%s)", what, name, where(ns)), fmt.Errorf("bringing it up: %w", why(err))}
		}})
	}
	for _, v := range s.todo.Veths {
		for _, e := range []topo.End{v.A, v.B} {
			up(e.NS, e.Name, v.Pos, "veth")
		}
	}
	for _, b := range s.todo.Bridges {
		up(b.NS, b.Name, b.Pos, "bridge")
	}
	return ctx.Err()
}

// addNeighbors adds the permanent neighbour entries, in the lab's order,
// once their links are up (bringing a link down flushes its entries). A
// journal record covers each run of entries on one interface; the entries
// replace whatever the kernel had learnt for those addresses, which can
// only be the lab's own, since every interface they are on is.
func (s *syncer) addNeighbors(ctx context.Context) error {
	ns := s.todo.Neighbors
	for start := 0; start < len(ns); {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := start + 1
		for end < len(ns) && ns[end].NS == ns[start].NS && ns[end].Dev == ns[start].Dev {
			end++
		}
		if err := s.neighbors(ns[start:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// neighbors adds entries that are all on one interface.
func (s *syncer) neighbors(entries []*topo.Neighbor) error {
	first := entries[0]
	fail := func(n *topo.Neighbor, err error) error {
		return &Error{n.Pos, fmt.Sprintf("neighbour %s lladdr %s on %s (%s)", n.Addr, n.MAC, n.Dev, where(n.NS)), err}
	}
	index, err := s.index(first.NS, first.Dev)
	if err != nil {
		return fail(first, err)
	}
	rec := record{Op: opNeigh, Pos: first.Pos.String(), NS: first.NS, Dev: first.Dev}
	for _, n := range entries {
		rec.Neighs = append(rec.Neighs, neighEntry{Addr: n.Addr.String(), MAC: n.MAC.String()})
	}
	if _, err := s.begin(rec); err != nil {
		return fail(first, err)
	}
	rt := s.conns[first.NS].rt
	for _, n := range entries {
		// The record stays live when one fails: undoing deletes the
		// entries that were made and finds the others missing.
		rt.add(call{req: neighReq(index, n.Addr, n.MAC), fail: func(err error) error { return fail(n, why(err)) }})
	}
	return nil
}

// nlNeigh is the netlink form of a permanent neighbour entry.
func nlNeigh(index int, addr netip.Addr, mac net.HardwareAddr) *netlink.Neigh {
	family := unix.AF_INET
	if addr.Is6() {
		family = unix.AF_INET6
	}
	return &netlink.Neigh{LinkIndex: index, Family: family, State: netlink.NUD_PERMANENT, IP: addr.AsSlice(), HardwareAddr: mac}
}

func (s *syncer) addRoutes(ctx context.Context) error {
	for _, r := range s.todo.Routes {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.route(r); err != nil {
			return &Error{r.Pos, "route " + describeRoute(r.Dst.String(), viaString(r.Via), r.Dev, r.NS), err}
		}
		s.pr.tick(&s.pr.p.Routes, 1)
	}
	// Everything queued since the namespaces were made goes now: one
	// write per namespace, in the lab's order within each, ending with
	// lookups that tell which links are running already.
	s.checkRunning()
	return s.flushAll(ctx)
}

func viaString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func describeRoute(dst, via, dev, ns string) string {
	s := dst
	if via != "" {
		s += " via " + via
	}
	if dev != "" {
		s += " dev " + dev
	}
	return s + " (" + where(ns) + ")"
}

func (s *syncer) route(r *topo.Route) error {
	oif := 0
	if r.Dev != "" {
		var err error
		if oif, err = s.index(r.NS, r.Dev); err != nil {
			return err
		}
	}
	seq, err := s.begin(record{Op: opRoute, Pos: r.Pos.String(), NS: r.NS, Dst: r.Dst.String(), Via: viaString(r.Via), Dev: r.Dev, Metric: r.Metric})
	if err != nil {
		return err
	}
	s.conns[r.NS].rt.add(call{req: routeReq(r.Dst, r.Via, oif, r.Metric), fail: func(err error) error {
		s.a.j.fail(seq)
		switch {
		case errors.Is(err, unix.EEXIST):
			err = taken(fmt.Sprintf("a route to %s in %s", r.Dst, where(r.NS)))
		case errors.Is(err, unix.ENETUNREACH), errors.Is(err, unix.EHOSTUNREACH):
			err = explain(err, "gateway %s is not reachable in %s: no interface there is up with an address in its subnet", r.Via, where(r.NS))
		default:
			err = why(err)
		}
		return &Error{r.Pos, "route " + describeRoute(r.Dst.String(), viaString(r.Via), r.Dev, r.NS), err}
	}})
	return nil
}

// masqueradeRule is the rule spec of a masquerade, after `-A POSTROUTING`.
func masqueradeRule(src netip.Prefix, out, comment string) []string {
	rule := []string{"-s", src.String()}
	if out != "" {
		rule = append(rule, "-o", out)
	}
	return append(rule, "-m", "comment", "--comment", comment, "-j", "MASQUERADE")
}

func (s *syncer) addMasquerades(ctx context.Context) error {
	ms := s.todo.Masquerades
	if len(ms) == 0 {
		return nil
	}
	ipt, err := iptables.New()
	if err != nil {
		m := ms[0]
		return &Error{m.Pos, "masquerade " + m.Src.String(), fmt.Errorf("masquerade needs the iptables command: %w; install iptables", err)}
	}
	nss := make([]string, len(ms))
	for i, m := range ms {
		nss[i] = m.NS
	}
	return s.inEach(ctx, nss, func(i int) error {
		m := ms[i]
		if err := s.masquerade(ipt, m); err != nil {
			op := "masquerade " + m.Src.String()
			if m.Out != "" {
				op += " out " + m.Out
			}
			return &Error{m.Pos, op + " (" + where(m.NS) + ")", err}
		}
		return nil
	})
}

// masquerade turns forwarding on and adds the rule, in the calling thread's
// namespace.
func (s *syncer) masquerade(ipt *iptables.IPTables, m *topo.Masquerade) error {
	declared := false
	for _, sc := range s.lab.Sysctls {
		declared = declared || (sc.NS == m.NS && sc.Key == ipForward)
	}
	if !declared {
		// The script did not say: forwarding on, as masquerade promises.
		if err := s.sysctl(m.NS, ipForward, "1", m.Pos); err != nil {
			return fmt.Errorf("turning forwarding on: %w", err)
		}
	}
	rule := masqueradeRule(m.Src, m.Out, s.a.alias)
	seq, err := s.begin(record{Op: opIptables, Pos: m.Pos.String(), NS: m.NS, Table: "nat", Chain: "POSTROUTING", Rule: rule})
	if err != nil {
		return err
	}
	if err := ipt.Append("nat", "POSTROUTING", rule...); err != nil {
		s.a.j.fail(seq)
		return fmt.Errorf("adding the iptables rule: %w", err)
	}
	return nil
}
