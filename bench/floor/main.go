// Command floor is the benchmark's lower bound: it builds and tears down the
// bridge lab (br0 with 10.0.0.1/16 in the current network namespace, and
// namespaces h1..hN each joined to br0 by a veth) with direct rtnetlink
// messages, in the fastest order of operations found. bench/README.md has
// the measurements behind each choice; the flags select the alternatives.
//
//	floor up   -n N    build the lab
//	floor down -n N    remove it; returns when nothing of it is left
//
// It must run as root, inside a private network and mount namespace (the
// benchmark harness runs it so); it refuses a network namespace that holds
// links other than the lab's.
//
// The order used by "up":
//
//  1. create br0 DOWN (in the lab's IFLA_GROUP) and add 10.0.0.1/16 to it;
//  2. one goroutine, on a locked OS thread, creates the namespaces: per
//     namespace unshare(CLONE_NEWNET), bind mount /proc/thread-self/ns/net
//     onto /run/netns/hI, open that file (for IFLA_NET_NS_FD) and an
//     rtnetlink socket, which is bound to hI because the thread is in hI;
//     the next unshare needs no setns back;
//  3. meanwhile the main goroutine takes each namespace as soon as it
//     exists and, in root, creates its veth with ONE RTM_NEWLINK: vethI with
//     IFF_UP, IFLA_MASTER=br0, IFLA_GROUP, one TX and one RX queue; its peer
//     cethI (VETH_INFO_PEER) with IFLA_NET_NS_FD=hI, one TX and one RX queue;
//  4. in hI, RTM_GETLINK cethI for its ifindex;
//  5. in hI, ONE write with four requests: lo up, cethI up, RTM_NEWADDR,
//     RTM_NEWROUTE default via 10.0.0.1;
//  6. br0 UP last.
//
// "down": br0 down; ONE RTM_DELLINK carrying only IFLA_GROUP deletes the
// bridge and every vethI (each takes its peer along) in one kernel batch;
// then 32 goroutines unmount (MNT_DETACH) and unlink /run/netns/hI. The
// group must hold nothing but the lab's links.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

const (
	bridgeName = "br0"
	bridgeCIDR = "10.0.0.1"
	prefixLen  = 16
	netnsDir   = "/run/netns"

	// rtextFilterSkipStats is RTEXT_FILTER_SKIP_STATS (linux/rtnetlink.h):
	// replies to RTM_GETLINK leave out the counters.
	rtextFilterSkipStats = 1 << 3
)

var native = binary.NativeEndian

// Options. The defaults are the fastest choices; the others are kept so
// that the measurements in bench/README.md can be repeated.
var (
	flagN        = flag.Int("n", 100, "number of namespaces")
	flagGroup    = flag.Uint("group", 7117, "IFLA_GROUP given to every root-side link of the lab; teardown deletes this group")
	flagWorkers  = flag.Int("nsworkers", 1, "locked OS threads creating namespaces")
	flagPipeline = flag.Bool("pipeline", true, "wire each namespace as soon as it exists (false: create all namespaces first)")
	flagCreate   = flag.String("create", "root", "which socket creates each veth: root (root end with IFLA_MASTER, peer into hI) | ns (hI end with a chosen ifindex, peer into root, then enslaved by name)")
	flagQueues   = flag.Int("queues", 1, "IFLA_NUM_TX_QUEUES and IFLA_NUM_RX_QUEUES of each veth end (0: kernel default, one per possible CPU)")
	flagBridgeUp = flag.String("bridge-up", "last", "when br0 goes up: first|last")
	flagMaster   = flag.String("master", "create", "with -create root, how a port joins br0: create (IFLA_MASTER in RTM_NEWLINK) | setlink (a second request)")
	flagPeer     = flag.String("peer", "ns", "with -create root, where the peer is created: ns (IFLA_NET_NS_FD in VETH_INFO_PEER) | move (in root, then moved)")
	flagIPv6     = flag.String("ipv6-default", "", "KEY=VALUE,… written to net.ipv6.conf.default.KEY in each new namespace, e.g. dad_transmits=0,router_solicitations=0 (less multicast flooding on br0)")
	flagDown     = flag.String("down", "group", "teardown: group (RTM_DELLINK by IFLA_GROUP) | veth (RTM_DELLINK per veth) | netns (unmount namespaces, wait for the veths to vanish)")
	flagDownBr   = flag.String("down-bridge", "down", "with -down group, first: down (set br0 down) | delete (delete br0) | none")
	flagUmount   = flag.Int("umount-workers", 32, "goroutines unmounting /run/netns entries during teardown")
	flagAPI      = flag.String("api", "raw", "with -create root: raw (hand-built requests, batched) | lib (vishvananda/netlink Handle calls, as the kernel layer would write them)")
	flagVerbose  = flag.Bool("v", false, "print phase timings on stderr")
)

// nsIfindex is the ifindex asked for the namespace end with -create ns. A
// fresh namespace holds only lo (1) and maybe a few fallback tunnels, so
// this one is free, and knowing it saves a lookup.
const nsIfindex = 100

func main() {
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: floor up|down [-n N] [flags]\n")
		flag.PrintDefaults()
	}
	if len(os.Args) < 2 || (os.Args[1] != "up" && os.Args[1] != "down") {
		flag.Usage()
		os.Exit(2)
	}
	cmd := os.Args[1]
	if err := flag.CommandLine.Parse(os.Args[2:]); err != nil {
		os.Exit(2)
	}
	for _, f := range []struct {
		val  *string
		name string
		ok   []string
	}{
		{flagCreate, "create", []string{"root", "ns"}},
		{flagBridgeUp, "bridge-up", []string{"first", "last"}},
		{flagMaster, "master", []string{"create", "setlink"}},
		{flagPeer, "peer", []string{"ns", "move"}},
		{flagDown, "down", []string{"group", "veth", "netns"}},
		{flagDownBr, "down-bridge", []string{"down", "delete", "none"}},
		{flagAPI, "api", []string{"raw", "lib"}},
	} {
		if !slices.Contains(f.ok, *f.val) {
			fmt.Fprintf(os.Stderr, "floor: -%s %q: want one of %v\n", f.name, *f.val, f.ok)
			os.Exit(2)
		}
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "floor: must run as root (it creates network namespaces and links)")
		os.Exit(1)
	}
	if err := checkSandbox(cmd); err != nil {
		fmt.Fprintf(os.Stderr, "floor: %v; it runs only in a network namespace of its own: through `go run ./bench`, or inside `unshare --net --mount --propagation private` with a tmpfs on /run/netns\n", err)
		os.Exit(1)
	}
	var err error
	if cmd == "up" {
		err = up(*flagN)
	} else {
		err = down(*flagN)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "floor %s: %v\n", cmd, err)
		os.Exit(1)
	}
}

// checkSandbox refuses a network namespace that holds links the lab does
// not own: "up" wants nothing but lo, "down" nothing but lo, br0 and vethI.
// That keeps the floor off the machine's own network.
func checkSandbox(cmd string) error {
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.close()
	names, err := c.linkNames()
	if err != nil {
		return err
	}
	for _, name := range names {
		lab := name == bridgeName || strings.HasPrefix(name, "veth")
		if name != "lo" && (cmd == "up" || !lab) {
			return fmt.Errorf("this network namespace has link %s", name)
		}
	}
	return nil
}

// phase prints the time since the previous call when -v is set.
var phaseStart = time.Now()

func phase(name string) {
	if *flagVerbose {
		now := time.Now()
		fmt.Fprintf(os.Stderr, "  %-28s %8.3f s\n", name, now.Sub(phaseStart).Seconds())
		phaseStart = now
	}
}

// hostAddr is the address of namespace hI: 10.0.I/250.I%250+2.
func hostAddr(i int) net.IP {
	return net.IPv4(10, 0, byte(i/250), byte(i%250+2)).To4()
}

// ns is one namespace of the lab, as made by makeNetns.
type ns struct {
	i    int
	fd   int   // open /proc/thread-self/ns/net of the namespace
	sock *conn // rtnetlink socket opened inside it
	lib  *netlink.Handle
	err  error
}

func up(n int) error {
	root, err := dial()
	if err != nil {
		return err
	}
	rootFd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	if err := prepareNetnsDir(); err != nil {
		return err
	}
	var rootLib *netlink.Handle
	if *flagAPI == "lib" {
		if rootLib, err = netlink.NewHandle(unix.NETLINK_ROUTE); err != nil {
			return err
		}
	}
	phase("setup")

	// 1. The bridge, down, with its address.
	br, err := root.newBridge()
	if err != nil {
		return err
	}
	if err := root.do(addrReq(br, net.IPv4(10, 0, 0, 1).To4())); err != nil {
		return fmt.Errorf("address on %s: %w", bridgeName, err)
	}
	if *flagBridgeUp == "first" {
		if err := root.do(linkUpReq(br)); err != nil {
			return err
		}
	}
	phase("bridge")

	// 2. The namespaces, made on locked threads and handed over in a channel.
	made := make(chan ns, n)
	workers := max(*flagWorkers, 1)
	for w := range workers {
		go makeNetnsRange(1+w, n, workers, made)
	}
	var all []ns
	if !*flagPipeline {
		for range n {
			all = append(all, <-made)
		}
		phase("netns")
	}

	// 3–5. The veths, addresses and routes, one namespace at a time.
	for k := range n {
		var h ns
		if all != nil {
			h = all[k]
		} else {
			h = <-made
		}
		if h.err != nil {
			return h.err
		}
		switch {
		case *flagCreate == "ns":
			err = wireFromNs(root, br, rootFd, h)
		case *flagAPI == "lib":
			err = wireLib(rootLib, br, h)
		default:
			err = wireFromRoot(root, br, h)
		}
		if err != nil {
			return err
		}
		h.sock.close()
		if h.lib != nil {
			h.lib.Close()
		}
		unix.Close(h.fd)
	}
	phase("veth+addr+route")
	if *flagVerbose && spent.veth > 0 {
		fmt.Fprintf(os.Stderr, "    of which: veth create %.3f s, GETLINK %.3f s, lo+up+addr+route %.3f s\n",
			spent.veth.Seconds(), spent.lookup.Seconds(), spent.config.Seconds())
	}

	// 6. The bridge up last.
	if *flagBridgeUp != "first" {
		if err := root.do(linkUpReq(br)); err != nil {
			return err
		}
	}
	phase("bridge up")
	return nil
}

// prepareNetnsDir makes /run/netns a shared mount point, as `ip netns add`
// does, so that namespace mounts propagate to other mount namespaces.
func prepareNetnsDir() error {
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		return err
	}
	err := unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) { // not a mount point yet
		if err = unix.Mount(netnsDir, netnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err == nil {
			err = unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
		}
	}
	if err != nil {
		return fmt.Errorf("mount %s shared: %w", netnsDir, err)
	}
	return nil
}

// makeNetnsRange creates namespaces first, first+step, … ≤ n on one locked OS
// thread and sends each on out. Each unshare moves the thread into a new
// namespace, so no setns is needed between them; the thread is never
// unlocked, and the Go runtime discards it when the goroutine returns.
func makeNetnsRange(first, n, step int, out chan<- ns) {
	runtime.LockOSThread()
	for i := first; i <= n; i += step {
		out <- makeNetns(i)
	}
}

// makeNetns creates namespace hI on the calling (locked) thread and leaves
// the thread in it.
func makeNetns(i int) ns {
	h := ns{i: i, fd: -1}
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		h.err = fmt.Errorf("unshare: %w", err)
		return h
	}
	path := fmt.Sprintf("%s/h%d", netnsDir, i)
	f, err := unix.Open(path, unix.O_RDONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0)
	if err != nil {
		h.err = fmt.Errorf("create %s: %w", path, err)
		return h
	}
	unix.Close(f)
	if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
		h.err = fmt.Errorf("bind mount %s: %w", path, err)
		return h
	}
	if *flagIPv6 != "" {
		// /proc/sys/net is the view of the opening thread's namespace.
		for _, kv := range strings.Split(*flagIPv6, ",") {
			k, v, _ := strings.Cut(kv, "=")
			if err := os.WriteFile("/proc/sys/net/ipv6/conf/default/"+k, []byte(v), 0); err != nil {
				h.err = err
				return h
			}
		}
	}
	if h.fd, err = unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
		h.err = err
		return h
	}
	if h.sock, err = dial(); err != nil { // bound to hI: the thread is in hI
		h.err = err
	}
	if *flagAPI == "lib" {
		h.lib, h.err = netlink.NewHandle(unix.NETLINK_ROUTE) // also bound to hI
	}
	return h
}

// wireFromRoot creates the veth of h from the root namespace: ONE request
// makes vethI (up, port of br0) and its peer cethI inside hI. Then, over the
// socket inside hI, it looks up cethI's ifindex and, in one write, brings lo
// and cethI up and adds the address and the default route.
func wireFromRoot(root *conn, br uint32, h ns) error {
	name, peer := fmt.Sprintf("veth%d", h.i), fmt.Sprintf("ceth%d", h.i)
	t0 := time.Now()
	if *flagPeer == "move" {
		if err := root.do(vethReq(name, peer, br, -1, 0)); err != nil {
			return fmt.Errorf("veth %s: %w", name, err)
		}
		pidx, err := root.linkIndex(peer)
		if err != nil {
			return err
		}
		if err := root.do(moveReq(pidx, h.fd)); err != nil {
			return fmt.Errorf("move %s: %w", peer, err)
		}
	} else if err := root.do(vethReq(name, peer, br, h.fd, 0)); err != nil {
		return fmt.Errorf("veth %s: %w", name, err)
	}
	if *flagMaster == "setlink" {
		if err := root.do(setByNameReq(name, br, false)); err != nil {
			return fmt.Errorf("master %s: %w", name, err)
		}
	}
	t1 := time.Now()
	idx, err := h.sock.linkIndex(peer)
	if err != nil {
		return fmt.Errorf("h%d: %w", h.i, err)
	}
	t2 := time.Now()
	if err := h.sock.do(linkUpReq(1), linkUpReq(idx), addrReq(idx, hostAddr(h.i)), defaultRouteReq()); err != nil {
		return fmt.Errorf("h%d: %w", h.i, err)
	}
	spent.veth += t1.Sub(t0)
	spent.lookup += t2.Sub(t1)
	spent.config += time.Since(t2)
	return nil
}

// spent adds up, for -v, the time of each kind of request in wireFromRoot.
var spent struct{ veth, lookup, config time.Duration }

// wireLib does what wireFromRoot does with vishvananda/netlink Handle
// calls. The library sends IFLA_MASTER in a second request and looks the new
// link up by name after creating it, and sends each request on its own.
func wireLib(root *netlink.Handle, br uint32, h ns) error {
	la := netlink.NewLinkAttrs() // TxQLen -1: a zero LinkAttrs would set txqueuelen 0
	la.Name = fmt.Sprintf("veth%d", h.i)
	la.Flags = net.FlagUp
	la.MasterIndex = int(br)
	la.Group = uint32(*flagGroup)
	la.NumTxQueues, la.NumRxQueues = *flagQueues, *flagQueues
	v := netlink.NewVeth(la)
	v.PeerName = fmt.Sprintf("ceth%d", h.i)
	v.PeerNamespace = netlink.NsFd(h.fd)
	v.PeerNumTxQueues, v.PeerNumRxQueues = uint32(*flagQueues), uint32(*flagQueues)
	if err := root.LinkAdd(v); err != nil {
		return fmt.Errorf("veth %s: %w", la.Name, err)
	}
	peer, err := h.lib.LinkByName(v.PeerName)
	if err != nil {
		return fmt.Errorf("h%d: %w", h.i, err)
	}
	lo := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: 1, Name: "lo"}}
	if err := h.lib.LinkSetUp(lo); err != nil {
		return fmt.Errorf("h%d lo: %w", h.i, err)
	}
	if err := h.lib.LinkSetUp(peer); err != nil {
		return fmt.Errorf("h%d: %w", h.i, err)
	}
	ipnet := &net.IPNet{IP: hostAddr(h.i), Mask: net.CIDRMask(prefixLen, 32)}
	if err := h.lib.AddrAdd(peer, &netlink.Addr{IPNet: ipnet}); err != nil {
		return fmt.Errorf("h%d: %w", h.i, err)
	}
	if err := h.lib.RouteAdd(&netlink.Route{Gw: net.ParseIP(bridgeCIDR).To4()}); err != nil {
		return fmt.Errorf("h%d route: %w", h.i, err)
	}
	return nil
}

// wireFromNs creates the veth of h from inside hI, in one write with the
// rest of hI's configuration: lo up; cethI with ifindex nsIfindex, up, its
// peer vethI in the root namespace; the address; the default route. Then
// vethI joins br0 and goes up, by name, in one more request.
func wireFromNs(root *conn, br uint32, rootFd int, h ns) error {
	name, peer := fmt.Sprintf("ceth%d", h.i), fmt.Sprintf("veth%d", h.i)
	err := h.sock.do(linkUpReq(1), vethReqIndex(name, peer, nsIfindex, rootFd),
		addrReq(nsIfindex, hostAddr(h.i)), defaultRouteReq())
	if err != nil {
		return fmt.Errorf("h%d: %w", h.i, err)
	}
	if err := root.do(setByNameReq(peer, br, true)); err != nil {
		return fmt.Errorf("%s: %w", peer, err)
	}
	return nil
}

func down(n int) error {
	root, err := dial()
	if err != nil {
		return err
	}
	switch *flagDown {
	case "group":
		switch *flagDownBr {
		case "down":
			// Ports leave a bridge that is down at less cost.
			if err := root.do(setByNameFlagsReq(bridgeName, 0)); err != nil {
				return fmt.Errorf("%s down: %w", bridgeName, err)
			}
			phase("bridge down")
		case "delete":
			if err := root.delLinkByName(bridgeName); err != nil {
				return err
			}
			phase("delete bridge")
		}
		// One batch: every veth (each takes its peer along) and the bridge.
		if err := root.do(groupDelReq(uint32(*flagGroup))); err != nil {
			return fmt.Errorf("delete group %d: %w", *flagGroup, err)
		}
		phase("delete links (group)")
		if err := removeNetns(n); err != nil {
			return err
		}
		phase("unmount netns")
	case "veth":
		if err := root.delLinkByName(bridgeName); err != nil {
			return err
		}
		phase("delete bridge")
		for i := 1; i <= n; i++ {
			if err := root.delLinkByName(fmt.Sprintf("veth%d", i)); err != nil {
				return err
			}
		}
		phase("delete veths")
		if err := removeNetns(n); err != nil {
			return err
		}
		phase("unmount netns")
	case "netns":
		if err := removeNetns(n); err != nil {
			return err
		}
		phase("unmount netns")
		for {
			names, err := root.linkNames()
			if err != nil {
				return err
			}
			left := 0
			for _, nm := range names {
				if strings.HasPrefix(nm, "veth") {
					left++
				}
			}
			if left == 0 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		phase("wait veths gone")
		if err := root.delLinkByName(bridgeName); err != nil {
			return err
		}
		phase("delete bridge")
	default:
		return fmt.Errorf("unknown -down %q", *flagDown)
	}
	return nil
}

// removeNetns unmounts and removes /run/netns/h1..hN with a few goroutines,
// so that the waits of the unmounts overlap.
func removeNetns(n int) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	w := max(*flagUmount, 1)
	for k := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1 + k; i <= n; i += w {
				path := fmt.Sprintf("%s/h%d", netnsDir, i)
				err := unix.Unmount(path, unix.MNT_DETACH)
				if err == nil || errors.Is(err, unix.EINVAL) {
					err = unix.Unlink(path)
				}
				if err != nil && !errors.Is(err, unix.ENOENT) {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("remove %s: %w", path, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// --- requests ---------------------------------------------------------------

const createFlags = unix.NLM_F_CREATE | unix.NLM_F_EXCL | unix.NLM_F_ACK

func (c *conn) newBridge() (uint32, error) {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, createFlags)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(bridgeName)))
	req.AddData(nl.NewRtAttr(unix.IFLA_GROUP, nl.Uint32Attr(uint32(*flagGroup))))
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("bridge"))
	req.AddData(info)
	if err := c.do(req); err != nil {
		return 0, fmt.Errorf("create %s: %w", bridgeName, err)
	}
	return c.linkIndex(bridgeName)
}

// vethReq creates veth name (up, in the lab's group, a port of master when
// master > 0) with its peer in the namespace open at nsfd (in the caller's
// namespace when nsfd < 0). The peer cannot be created up: veth_open fails
// with ENOTCONN until both ends exist.
func vethReq(name, peer string, master uint32, nsfd, index int) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, createFlags)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(index)
	msg.Flags, msg.Change = unix.IFF_UP, unix.IFF_UP
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	if master > 0 {
		req.AddData(nl.NewRtAttr(unix.IFLA_GROUP, nl.Uint32Attr(uint32(*flagGroup))))
		if *flagMaster == "create" {
			req.AddData(nl.NewRtAttr(unix.IFLA_MASTER, nl.Uint32Attr(master)))
		}
	}
	if *flagQueues > 0 {
		req.AddData(nl.NewRtAttr(unix.IFLA_NUM_TX_QUEUES, nl.Uint32Attr(uint32(*flagQueues))))
		req.AddData(nl.NewRtAttr(unix.IFLA_NUM_RX_QUEUES, nl.Uint32Attr(uint32(*flagQueues))))
	}
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("veth"))
	data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
	p := data.AddRtAttr(nl.VETH_INFO_PEER, nil)
	nl.NewIfInfomsgChild(p, unix.AF_UNSPEC)
	p.AddRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(peer))
	if nsfd >= 0 {
		p.AddRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(nsfd)))
	}
	if *flagQueues > 0 {
		p.AddRtAttr(unix.IFLA_NUM_TX_QUEUES, nl.Uint32Attr(uint32(*flagQueues)))
		p.AddRtAttr(unix.IFLA_NUM_RX_QUEUES, nl.Uint32Attr(uint32(*flagQueues)))
	}
	req.AddData(info)
	return req
}

// vethReqIndex creates veth name with ifindex index, up, with its peer in
// the namespace open at nsfd.
func vethReqIndex(name, peer string, index uint32, nsfd int) *nl.NetlinkRequest {
	return vethReq(name, peer, 0, nsfd, int(index))
}

func moveReq(idx uint32, nsfd int) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(idx)
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(nsfd))))
	return req
}

// setByNameReq makes link name a port of master (and puts it in the lab's
// group, and up when up is set), finding it by name: RTM_NEWLINK without
// NLM_F_CREATE on an existing name changes that link.
func setByNameReq(name string, master uint32, up bool) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	if up {
		msg.Flags, msg.Change = unix.IFF_UP, unix.IFF_UP
	}
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	req.AddData(nl.NewRtAttr(unix.IFLA_MASTER, nl.Uint32Attr(master)))
	req.AddData(nl.NewRtAttr(unix.IFLA_GROUP, nl.Uint32Attr(uint32(*flagGroup))))
	return req
}

// setByNameFlagsReq sets the IFF_UP flag of link name to flags&IFF_UP.
func setByNameFlagsReq(name string, flags uint32) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Flags, msg.Change = flags&unix.IFF_UP, unix.IFF_UP
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	return req
}

func linkUpReq(idx uint32) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(idx)
	msg.Flags, msg.Change = unix.IFF_UP, unix.IFF_UP
	req.AddData(msg)
	return req
}

func addrReq(idx uint32, ip net.IP) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_NEWADDR, createFlags)
	msg := nl.NewIfAddrmsg(unix.AF_INET)
	msg.Prefixlen = prefixLen
	msg.Index = idx
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFA_LOCAL, ip))
	req.AddData(nl.NewRtAttr(unix.IFA_ADDRESS, ip))
	return req
}

func defaultRouteReq() *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_NEWROUTE, createFlags)
	msg := nl.NewRtMsg()
	msg.Family = unix.AF_INET
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.RTA_GATEWAY, net.ParseIP(bridgeCIDR).To4()))
	return req
}

func groupDelReq(group uint32) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_DELLINK, unix.NLM_F_ACK)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_GROUP, nl.Uint32Attr(group)))
	return req
}

func (c *conn) delLinkByName(name string) error {
	req := nl.NewNetlinkRequest(unix.RTM_DELLINK, unix.NLM_F_ACK)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	if err := c.do(req); err != nil {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// linkIndex returns the ifindex of the link called name (one RTM_GETLINK).
func (c *conn) linkIndex(name string) (uint32, error) {
	req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_ACK)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	req.AddData(nl.NewRtAttr(unix.IFLA_EXT_MASK, nl.Uint32Attr(rtextFilterSkipStats)))
	var idx uint32
	err := c.exchange([][]byte{req.Serialize()}, func(m syscall.NetlinkMessage) {
		if m.Header.Type == unix.RTM_NEWLINK && len(m.Data) >= unix.SizeofIfInfomsg {
			idx = uint32(nl.DeserializeIfInfomsg(m.Data).Index)
		}
	})
	if err == nil && idx == 0 {
		err = fmt.Errorf("no index in reply")
	}
	if err != nil {
		return 0, fmt.Errorf("link %s: %w", name, err)
	}
	return idx, nil
}

// linkNames dumps the names of all links of the socket's namespace.
func (c *conn) linkNames() ([]string, error) {
	req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_DUMP)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_EXT_MASK, nl.Uint32Attr(rtextFilterSkipStats)))
	if err := c.send(req.Serialize()); err != nil {
		return nil, err
	}
	var names []string
	for {
		msgs, err := c.recv()
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return names, nil
			case unix.NLMSG_ERROR:
				return nil, nlError(m.Data)
			case unix.RTM_NEWLINK:
				attrs, err := nl.ParseRouteAttr(m.Data[unix.SizeofIfInfomsg:])
				if err != nil {
					return nil, err
				}
				for _, a := range attrs {
					if a.Attr.Type == unix.IFLA_IFNAME {
						names = append(names, strings.TrimRight(string(a.Value), "\x00"))
					}
				}
			}
		}
	}
}

// --- a minimal rtnetlink connection -------------------------------------------

// conn is an NETLINK_ROUTE socket bound in the namespace of the thread that
// opened it.
type conn struct {
	fd  int
	buf []byte
}

func dial() (*conn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	// Acks carry only the header of the request, not all of it.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	return &conn{fd: fd, buf: make([]byte, 1<<16)}, nil
}

func (c *conn) close() { unix.Close(c.fd) }

func (c *conn) send(b []byte) error {
	return unix.Sendto(c.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
}

func (c *conn) recv() ([]syscall.NetlinkMessage, error) {
	n, _, err := unix.Recvfrom(c.fd, c.buf, 0)
	if err != nil {
		return nil, fmt.Errorf("netlink recv: %w", err)
	}
	return syscall.ParseNetlinkMessage(c.buf[:n])
}

// do sends the requests in one write and waits for the ack of each; the
// kernel handles them in order.
func (c *conn) do(reqs ...*nl.NetlinkRequest) error {
	bufs := make([][]byte, len(reqs))
	for i, r := range reqs {
		bufs[i] = r.Serialize()
	}
	return c.exchange(bufs, nil)
}

// exchange writes msgs at once and reads until every one is acknowledged,
// passing other replies to f.
func (c *conn) exchange(msgs [][]byte, f func(syscall.NetlinkMessage)) error {
	var out []byte
	pending := map[uint32]bool{}
	for _, m := range msgs {
		pending[native.Uint32(m[8:12])] = true
		out = append(out, m...)
	}
	if err := c.send(out); err != nil {
		return fmt.Errorf("netlink send: %w", err)
	}
	var first error
	for len(pending) > 0 {
		replies, err := c.recv()
		if err != nil {
			return err
		}
		for _, m := range replies {
			if m.Header.Type != unix.NLMSG_ERROR {
				if f != nil {
					f(m)
				}
				continue
			}
			delete(pending, m.Header.Seq)
			if err := nlError(m.Data); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// nlError decodes the payload of an NLMSG_ERROR (nil for an ack), with the
// kernel's extended-ack message when there is one.
func nlError(data []byte) error {
	if len(data) < 4 {
		return fmt.Errorf("short netlink error message")
	}
	errno := -int32(native.Uint32(data[:4]))
	if errno == 0 {
		return nil
	}
	err := error(syscall.Errno(errno))
	// With NETLINK_CAP_ACK the request header follows, then the ext-ack TLVs.
	if len(data) >= 4+unix.SizeofNlMsghdr {
		if attrs, perr := nl.ParseRouteAttr(data[4+unix.SizeofNlMsghdr:]); perr == nil {
			for _, a := range attrs {
				if a.Attr.Type == unix.NLMSGERR_ATTR_MSG {
					err = fmt.Errorf("%w (%s)", err, strings.TrimRight(string(a.Value), "\x00"))
				}
			}
		}
	}
	return err
}
