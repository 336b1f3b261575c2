package kernel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-iptables/iptables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"nsscript/topo"
)

// Down removes the lab named lab from the kernel, following the journal in
// <stateDir>/<lab>/ (stateDir "" means StateDir()), and then removes that
// directory. It works whatever state the run that built the lab ended in,
// even killed in the middle of a change. It returns when everything is gone,
// or an error, and then keeps the journal so that a later Down can finish.
// For a lab that is not up, it returns an error matching ErrNotUp.
func Down(ctx context.Context, stateDir, lab string) error {
	return DownWith(ctx, stateDir, lab, DownOptions{})
}

// DownOptions are the options of DownWith.
type DownOptions struct {
	// Progress, if set, is called as the lab goes, with how much of it is
	// gone. See Progress.
	Progress func(Progress)
}

// DownWith is Down with options.
func DownWith(ctx context.Context, stateDir, lab string, opts DownOptions) error {
	if err := checkLabName(lab); err != nil {
		return err
	}
	if stateDir == "" {
		stateDir = StateDir()
	}
	dir := filepath.Join(stateDir, lab)
	notUp := &stateError{fmt.Sprintf("lab %s is not up (%s holds no journal)", lab, dir), ErrNotUp}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return notUp
	}
	lock, err := lockLab(dir, lab)
	if err != nil {
		return err
	}
	defer lock.Close()
	recs, err := readJournal(filepath.Join(dir, journalFile))
	if errors.Is(err, os.ErrNotExist) {
		// A directory without a journal holds nothing: a run that stopped
		// before its first change.
		if rerr := removeState(dir); rerr != nil {
			return rerr
		}
		return notUp
	}
	if err != nil {
		return fmt.Errorf("lab %s: %w", lab, err)
	}
	if _, err := hostNS(); err != nil {
		return err
	}
	live := liveRecords(recs)
	pr := &progress{fn: opts.Progress, p: recordsProgress(live)}
	if err := undoWith(ctx, lab, live, pr); err != nil {
		return fmt.Errorf("lab %s is not completely down: %w; run `nsscript down %s` again once the cause is fixed", lab, err, lab)
	}
	return removeState(dir)
}

// undoer reverses journaled changes.
type undoer struct {
	// alias and group mark the lab's links in the host.
	alias string
	group uint32
	conns conns
	// dying holds the namespaces being deleted: whatever is inside them
	// goes with them.
	dying map[string]bool
	// wait lists the links that die with a dying namespace but live in
	// another one: the kernel removes them asynchronously.
	wait []waitLink
	ipt  *iptables.IPTables
	pr   *progress
	sys  procSys
}

type waitLink struct{ ns, name string }

// undo reverses the changes of recs, which are live records in journal
// order, and waits until what it removed is gone.
func undo(ctx context.Context, lab string, recs []record) error {
	return undoWith(ctx, lab, recs, nil)
}

func undoWith(ctx context.Context, lab string, recs []record, pr *progress) error {
	if len(recs) == 0 {
		return nil
	}
	u := &undoer{alias: topo.RuleComment(lab), group: topo.LinkGroup(lab), conns: conns{}, dying: map[string]bool{}, pr: pr}
	defer u.conns.close()
	defer u.sys.close()
	return u.run(ctx, recs)
}

func (u *undoer) run(ctx context.Context, recs []record) error {
	for _, r := range recs {
		if r.Op == opNetns {
			u.dying[r.Name] = true
		}
	}
	var names []string
	for _, r := range recs {
		switch r.Op {
		case opNetns:
		case opVeth:
			for _, ns := range []string{r.NS, r.PeerNS} {
				if !u.dying[ns] {
					names = append(names, ns)
				}
			}
		default:
			if !u.dying[r.NS] {
				names = append(names, r.NS)
			}
		}
	}
	// A lab namespace that is gone already has nothing left to undo.
	if err := u.conns.open(names, true, false); err != nil {
		return err
	}
	var errs []error
	for _, r := range slices.Backward(recs) {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := u.undoOne(r); err != nil {
			errs = append(errs, fmt.Errorf("%s: undoing %s: %w", posOf(r), describe(r), err))
		}
		if r.Op != opNetns {
			u.tick(r)
		}
	}
	for _, r := range slices.Backward(recs) {
		if r.Op == opNetns {
			if err := removeNetns(r.Name); err != nil {
				errs = append(errs, fmt.Errorf("%s: deleting netns %s: %w", posOf(r), r.Name, err))
			}
			u.tick(r)
		}
	}
	if err := u.waitGone(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// recordsProgress is the work of undoing recs, none of it done.
func recordsProgress(recs []record) Progress {
	var p Progress
	c := countRecords(recs)
	p.Netns.Total, p.Links.Total, p.Addrs.Total, p.Routes.Total = c.Netns, c.Links, c.Addrs, c.Routes
	return p
}

// tick reports record r undone.
func (u *undoer) tick(r record) {
	if u.pr == nil {
		return
	}
	switch r.Op {
	case opNetns:
		u.pr.tick(&u.pr.p.Netns, 1)
	case opBridge:
		u.pr.tick(&u.pr.p.Links, 1)
	case opVeth:
		u.pr.tick(&u.pr.p.Links, 2)
	case opAddr:
		u.pr.tick(&u.pr.p.Addrs, 1)
	case opRoute:
		u.pr.tick(&u.pr.p.Routes, 1)
	}
}

func posOf(r record) string {
	if r.Pos == "" {
		return "-"
	}
	return r.Pos
}

// describe names the change of a record, for messages.
func describe(r record) string {
	switch r.Op {
	case opNetns:
		return "netns " + r.Name
	case opBridge:
		return fmt.Sprintf("bridge %s (%s)", r.Name, where(r.NS))
	case opVeth:
		return fmt.Sprintf("veth %s (%s)", r.Name, where(r.NS))
	case opAddr:
		return fmt.Sprintf("address %s on %s (%s)", r.Addr, r.Dev, where(r.NS))
	case opRoute:
		return "route " + describeRoute(r.Dst, r.Via, r.Dev, r.NS)
	case opSysctl:
		return fmt.Sprintf("sysctl %s (%s)", r.Key, where(r.NS))
	case opNeigh:
		return fmt.Sprintf("%d neighbour entries on %s (%s)", len(r.Neighs), r.Dev, where(r.NS))
	case opIptables:
		return fmt.Sprintf("iptables rule -t %s -A %s %s (%s)", r.Table, r.Chain, strings.Join(r.Rule, " "), where(r.NS))
	}
	return r.Op
}

func (u *undoer) undoOne(r record) error {
	switch r.Op {
	case opBridge:
		if u.dying[r.NS] {
			return nil
		}
		return u.deleteLink(r, r.NS, r.Name)
	case opVeth:
		if u.dying[r.NS] || u.dying[r.PeerNS] {
			for _, e := range [][2]string{{r.NS, r.Name}, {r.PeerNS, r.Peer}} {
				if !u.dying[e[0]] {
					u.wait = append(u.wait, waitLink{e[0], e[1]})
				}
			}
			return nil
		}
		// Deleting one end deletes the pair. An end in a lab namespace
		// needs no proof of ownership; prefer it.
		if r.NS == topo.Host && r.PeerNS != topo.Host {
			return u.deleteLink(r, r.PeerNS, r.Peer)
		}
		return u.deleteLink(r, r.NS, r.Name)
	case opAddr:
		if u.dying[r.NS] {
			return nil
		}
		return u.deleteAddr(r)
	case opRoute:
		if u.dying[r.NS] {
			return nil
		}
		return u.deleteRoute(r)
	case opNeigh:
		if u.dying[r.NS] {
			return nil
		}
		return u.deleteNeighs(r)
	case opSysctl:
		if u.dying[r.NS] || r.Old == nil {
			return nil
		}
		c := u.conns[r.NS]
		if c == nil {
			return nil
		}
		return inNS(c, func() error {
			err := u.sys.write(r.Key, *r.Old)
			if errors.Is(err, unix.ENOENT) {
				// It belonged to an interface that is gone.
				return nil
			}
			return err
		})
	case opIptables:
		if u.dying[r.NS] {
			return nil
		}
		c := u.conns[r.NS]
		if c == nil {
			return nil
		}
		if u.ipt == nil {
			ipt, err := iptables.New()
			if err != nil {
				return fmt.Errorf("removing it needs the iptables command: %w", err)
			}
			u.ipt = ipt
		}
		return inNS(c, func() error {
			return u.ipt.DeleteIfExists(r.Table, r.Chain, r.Rule...)
		})
	}
	return nil
}

// owns reports whether link l, found in the host under the name a record
// gave, is the lab's: it carries the lab's group, which the lab's links
// have from their creation, or its alias.
func (u *undoer) owns(l netlink.Link) bool {
	return l.Attrs().Group == u.group || l.Attrs().Alias == u.alias
}

func (u *undoer) deleteLink(r record, ns, name string) error {
	c := u.conns[ns]
	if c == nil {
		return nil
	}
	l, err := c.nl.LinkByName(name)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns == topo.Host && !u.owns(l) {
		// Not ours any more: someone deleted the lab's and reused the name.
		return nil
	}
	if err := c.nl.LinkDel(l); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

func (u *undoer) deleteAddr(r record) error {
	c := u.conns[r.NS]
	if c == nil {
		return nil
	}
	p, err := netip.ParsePrefix(r.Addr)
	if err != nil {
		return fmt.Errorf("journal: bad address %q", r.Addr)
	}
	l, err := c.nl.LinkByName(r.Dev)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	err = c.nl.AddrDel(l, nlAddr(p))
	if errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}

// deleteNeighs deletes the entries of a neigh record that are still there.
// They go with their interface, so a missing interface leaves nothing to
// do.
func (u *undoer) deleteNeighs(r record) error {
	c := u.conns[r.NS]
	if c == nil {
		return nil
	}
	l, err := c.nl.LinkByName(r.Dev)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range r.Neighs {
		addr, aerr := netip.ParseAddr(e.Addr)
		mac, merr := net.ParseMAC(e.MAC)
		if aerr != nil || merr != nil {
			errs = append(errs, fmt.Errorf("journal: bad neighbour entry %s %s", e.Addr, e.MAC))
			continue
		}
		err := c.nl.NeighDel(nlNeigh(l.Attrs().Index, addr, mac))
		if err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("%s: %w", e.Addr, err))
		}
	}
	return errors.Join(errs...)
}

func (u *undoer) deleteRoute(r record) error {
	c := u.conns[r.NS]
	if c == nil {
		return nil
	}
	dst, err := netip.ParsePrefix(r.Dst)
	if err != nil {
		return fmt.Errorf("journal: bad destination %q", r.Dst)
	}
	rt := &netlink.Route{Dst: ipNet(dst), Priority: r.Metric, Family: unix.AF_INET}
	if dst.Addr().Is6() {
		rt.Family = unix.AF_INET6
	}
	if r.Via != "" {
		via, err := netip.ParseAddr(r.Via)
		if err != nil {
			return fmt.Errorf("journal: bad gateway %q", r.Via)
		}
		rt.Gw = via.AsSlice()
	}
	if r.Dev != "" {
		l, err := c.nl.LinkByName(r.Dev)
		if isNotFound(err) {
			return nil // the route went with its interface
		}
		if err != nil {
			return err
		}
		rt.LinkIndex = l.Attrs().Index
	}
	err = c.nl.RouteDel(rt)
	if errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return err
}

// Waiting for the kernel to finish deleting namespaces: how long without
// any progress before deleting what is left by hand, and how long without
// progress after that before giving up.
var (
	stallTimeout = 5 * time.Second
	giveUp       = 60 * time.Second
)

const pollMax = 50 * time.Millisecond

// waitGone waits until the links in u.wait are gone. A namespace is freed
// once nothing holds it; when something does (a process started inside
// it), its veth peers would stay, so after a stall they are deleted here.
func (u *undoer) waitGone(ctx context.Context) error {
	pending := u.wait
	delay := time.Millisecond
	lastProgress := time.Now()
	forced := false
	for len(pending) > 0 {
		byNS := map[string]map[string]netlink.Link{}
		var left []waitLink
		for _, w := range pending {
			c := u.conns[w.ns]
			if c == nil {
				continue
			}
			links, ok := byNS[w.ns]
			if !ok {
				list, err := listLinks(c.nl)
				if err != nil {
					return fmt.Errorf("listing the interfaces of %s: %w", where(w.ns), err)
				}
				links = map[string]netlink.Link{}
				for _, l := range list {
					links[l.Attrs().Name] = l
				}
				byNS[w.ns] = links
			}
			l := links[w.name]
			if l == nil || (w.ns == topo.Host && !u.owns(l)) {
				continue
			}
			left = append(left, w)
		}
		if len(left) < len(pending) {
			lastProgress = time.Now()
		}
		pending = left
		if len(pending) == 0 {
			break
		}
		switch stalled := time.Since(lastProgress); {
		case forced && stalled > giveUp:
			var names []string
			for _, w := range pending {
				names = append(names, fmt.Sprintf("%s (%s)", w.name, where(w.ns)))
			}
			return fmt.Errorf("interfaces still there %v after their namespaces were deleted: %s", giveUp, strings.Join(names, ", "))
		case !forced && stalled > stallTimeout:
			// Deleting the lab's end deletes the pair, synchronously.
			for _, w := range pending {
				if l := byNS[w.ns][w.name]; l != nil {
					u.conns[w.ns].nl.LinkDel(l)
				}
			}
			forced, lastProgress = true, time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, pollMax)
	}
	return nil
}
