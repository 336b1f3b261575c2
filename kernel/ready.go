package kernel

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"nsscript/topo"
)

// readyTimeout bounds the wait for links and addresses to become usable.
const readyTimeout = 10 * time.Second

// Bringing a link up is not the end of it: the kernel turns carrier on,
// then a work queue (linkwatch) activates the link's queueing discipline,
// which drops every packet until then, and IPv6 joins each address's
// solicited-node multicast group in yet another work item, without which
// neighbour solicitations for the address are dropped. A packet lost so
// costs a second of retransmission timeout. So a Sync ends by waiting for
// both to be done.

// upLink is a link a Sync brought up and expects to be running.
type upLink struct {
	ns, name string
	pos      topo.Pos
	what     string
}

// error is err about link l, at the script position that made it.
func (l upLink) error(err error) error {
	return &Error{l.pos, fmt.Sprintf("%s %s (%s)", l.what, l.name, where(l.ns)), err}
}

// expectUp notes the links of this Sync that must come up: every veth end
// (its peer comes up too), then every bridge that has a port. Bridges come
// last: a bridge runs once a port does, and asking for a port is what
// makes it run.
func (s *syncer) expectUp() []upLink {
	var ends, bridges []upLink
	seen := map[ifKey]bool{}
	add := func(ns, name string, pos topo.Pos, what string) {
		k := ifKey{ns, name}
		if !seen[k] {
			seen[k] = true
			l := upLink{ns: ns, name: name, pos: pos, what: what}
			if what == "bridge" {
				bridges = append(bridges, l)
			} else {
				ends = append(ends, l)
			}
		}
	}
	hasPort := map[ifKey]bool{}
	for _, v := range s.lab.Veths {
		for _, e := range []topo.End{v.A, v.B} {
			if e.Master != "" {
				hasPort[ifKey{e.NS, e.Master}] = true
			}
		}
	}
	for _, v := range s.todo.Veths {
		for _, e := range []topo.End{v.A, v.B} {
			add(e.NS, e.Name, v.Pos, "veth")
			if e.Master != "" {
				if b := s.lab.LookupBridge(e.NS, e.Master); b != nil {
					add(b.NS, b.Name, b.Pos, "bridge")
				}
			}
		}
	}
	for _, b := range s.todo.Bridges {
		if hasPort[ifKey{b.NS, b.Name}] {
			add(b.NS, b.Name, b.Pos, "bridge")
		}
	}
	return append(ends, bridges...)
}

// checkRunning queues a lookup of each link this Sync brings up at the end
// of its namespace's batch, after the request that brings it up: asking
// runs the link's pending linkwatch work (see waitRunning), and most links
// are running by then, at no round trip of their own. Those that are not
// are left in s.starting for waitReady.
//
// Many links in the host are looked at in one dump instead, once every
// batch has gone (see hostRunning).
func (s *syncer) checkRunning() {
	s.expected = s.expectUp()
	var host []upLink
	for _, l := range s.expected {
		if l.ns == topo.Host {
			host = append(host, l)
		}
	}
	if len(host) >= batchMax {
		s.hostChecks = host
	}
	for _, l := range s.expected {
		if l.ns == topo.Host && s.hostChecks != nil {
			continue
		}
		s.conns[l.ns].rt.add(s.askRunning(l, &s.starting))
	}
}

// hostRunning dumps the host's links and adds those of s.hostChecks that
// do not run yet to s.starting. By the time the host's last batch has
// gone, the kernel has mostly run the linkwatch work of a bridge's ports
// on its own (their peers came up in earlier batches), and one dump of
// the host costs much less than a lookup per port.
func (s *syncer) hostRunning() error {
	if len(s.hostChecks) == 0 {
		return nil
	}
	links, err := s.conns[topo.Host].rt.links()
	if err != nil {
		return fmt.Errorf("listing the host's interfaces: %w", err)
	}
	for _, l := range s.hostChecks {
		li, ok := links[l.name]
		if !ok {
			return l.error(fmt.Errorf("looking it up: %w", unix.ENODEV))
		}
		if li.oper != uint8(netlink.OperUp) {
			s.starting = append(s.starting, l)
			s.lastOper = li.oper
		}
	}
	return nil
}

// askRunning is a lookup of link l that appends it to notYet unless its
// operational state is up.
func (s *syncer) askRunning(l upLink, notYet *[]upLink) call {
	return call{
		req: getLinkReq(l.name),
		reply: func(typ uint16, data []byte) {
			if li := parseLink(typ, data); li.index != 0 && li.oper != uint8(netlink.OperUp) {
				*notYet = append(*notYet, l)
				s.lastOper = li.oper
			}
		},
		fail: func(err error) error {
			return l.error(fmt.Errorf("looking it up: %w", err))
		},
	}
}

// waitReady waits until the links of this Sync are running and its IPv6
// addresses on them answer neighbour solicitations.
func (s *syncer) waitReady(ctx context.Context) error {
	links := s.expected
	deadline := time.Now().Add(readyTimeout)
	if err := s.hostRunning(); err != nil {
		return err
	}
	if err := s.waitRunning(ctx, s.starting, deadline); err != nil {
		return err
	}
	running := map[ifKey]bool{}
	for _, l := range links {
		running[ifKey{l.ns, l.name}] = true
	}
	// IPv6 addresses on links that run, by namespace.
	groups := map[string][]*topo.Addr{}
	var nss []string
	for _, ad := range s.todo.Addrs {
		if !ad.Prefix.Addr().Is6() || !s.running(running, ad.NS, ad.Dev) {
			continue
		}
		if groups[ad.NS] == nil {
			nss = append(nss, ad.NS)
		}
		groups[ad.NS] = append(groups[ad.NS], ad)
	}
	if len(nss) == 0 {
		return nil
	}
	return s.inEach(ctx, nss, func(i int) error {
		return waitJoined(ctx, groups[nss[i]], deadline)
	})
}

// running reports whether interface dev of ns is expected to run: one this
// Sync brought up, or one that was up before.
func (s *syncer) running(now map[ifKey]bool, ns, dev string) bool {
	if now[ifKey{ns, dev}] {
		return true
	}
	if s.lab.LookupBridge(ns, dev) != nil {
		// A bridge applied earlier: it runs if it has a port now.
		for _, v := range s.lab.Veths {
			if (v.A.NS == ns && v.A.Master == dev) || (v.B.NS == ns && v.B.Master == dev) {
				return true
			}
		}
		return false
	}
	return true
}

// waitRunning waits until every link has operational state up. It asks
// for each link by name rather than dumping them all: on recent kernels a
// single-link RTM_GETLINK runs the link's pending linkwatch work at once
// (linkwatch_sync_dev in rtnl_getlink), which spares the second end of a
// veth the second that linkwatch otherwise defers its carrier event by
// (measured: 1.04 s down to 3.5 ms for a Sync of two namespaces on 6.18).
func (s *syncer) waitRunning(ctx context.Context, pending []upLink, deadline time.Time) error {
	delay := 100 * time.Microsecond
	for len(pending) > 0 {
		if time.Now().After(deadline) {
			l := pending[0]
			return l.error(fmt.Errorf("it is up but not running after %v (operational state %s); is its peer or a port down?", readyTimeout, netlink.LinkOperState(s.lastOper)))
		}
		if err := sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(2*delay, 20*time.Millisecond)
		// One batch of requests per namespace.
		var left []upLink
		var order []string
		byNS := map[string][]upLink{}
		for _, l := range pending {
			if byNS[l.ns] == nil {
				order = append(order, l.ns)
			}
			byNS[l.ns] = append(byNS[l.ns], l)
		}
		for _, ns := range order {
			rt := s.conns[ns].rt
			for _, l := range byNS[ns] {
				rt.add(s.askRunning(l, &left))
			}
			if err := rt.flush(); err != nil {
				return err
			}
		}
		pending = left
	}
	return nil
}

// waitJoined waits, on a thread in the addresses' namespace, until each has
// joined its solicited-node multicast group.
func waitJoined(ctx context.Context, addrs []*topo.Addr, deadline time.Time) error {
	delay := 100 * time.Microsecond
	for {
		igmp6, err := os.ReadFile("/proc/thread-self/net/igmp6")
		if errors.Is(err, os.ErrNotExist) {
			return nil // no IPv6 here
		}
		if err != nil {
			return err
		}
		joined := map[string]bool{}
		for _, line := range strings.Split(string(igmp6), "\n") {
			if f := strings.Fields(line); len(f) >= 3 {
				joined[f[1]+" "+f[2]] = true
			}
		}
		var missing *topo.Addr
		for _, ad := range addrs {
			if !joined[ad.Dev+" "+solicitedNode(ad.Prefix.Addr())] {
				missing = ad
				break
			}
		}
		if missing == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return &Error{missing.Pos, fmt.Sprintf("address %s on %s (%s)", missing.Prefix, missing.Dev, where(missing.NS)),
				fmt.Errorf("not usable after %v: the kernel has not joined its solicited-node group", readyTimeout)}
		}
		if err := sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(2*delay, 20*time.Millisecond)
	}
}

// solicitedNode is the solicited-node multicast group of a, as
// /proc/net/igmp6 prints it.
func solicitedNode(a netip.Addr) string {
	b := a.As16()
	g := [16]byte{0: 0xff, 1: 0x02, 11: 0x01, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]}
	return fmt.Sprintf("%x", g[:])
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
