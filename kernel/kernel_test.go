package kernel

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"nsscript/topo"
)

// Two namespaces joined by a veth pair answer each other over IPv4 and
// IPv6 as soon as Sync returns, and Down leaves nothing.
func TestPair(t *testing.T) {
	needKernel(t)
	before := snapshot(t, "pa", "pb")
	b := newLab(t, "pair")
	b.netns("pa")
	b.netns("pb")
	b.veth("pa", "pa-pb", "pb", "pb-pa", 0)
	b.addr("pa", "pa-pb", "10.1.1.1/24")
	b.addr("pb", "pb-pa", "10.1.1.2/24")
	b.addr("pa", "pa-pb", "fd01::1/64")
	b.addr("pb", "pb-pa", "fd01::2/64")
	a, dir := open(t, "pair")
	syncLab(t, a, b.lab)
	mustPing(t, "pa", "10.1.1.2")
	mustPing(t, "pb", "fd01::1")
	mustPing(t, "pa", "fd01::2")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Down(context.Background(), dir, "pair"); err != nil {
		t.Fatal(err)
	}
	sameNetwork(t, "after down", before, snapshot(t, "pa", "pb"))
	stateEmpty(t, dir)
	// A second down is harmless, and says the lab is not up.
	if err := Down(context.Background(), dir, "pair"); !errors.Is(err, ErrNotUp) {
		t.Fatalf("second Down: %v, want ErrNotUp", err)
	}
}

// A bridge in the host with an address, namespaces attached to it, MTUs,
// the group and alias that mark the host's links as the lab's, one queue per
// veth end.
func TestBridgeInHost(t *testing.T) {
	needKernel(t)
	before := snapshot(t, "bx", "by")
	b := newLab(t, "brlab")
	b.bridge(topo.Host, "tbr0", 1400)
	b.addr(topo.Host, "tbr0", "10.2.0.1/24")
	b.addr(topo.Host, "tbr0", "fd02::1/64")
	for i, ns := range []string{"bx", "by"} {
		b.netns(ns)
		b.veth(ns, "eth0", topo.Host, ns+"-br@tbr0", 1400)
		b.addr(ns, "eth0", "10.2.0."+string(rune('2'+i))+"/24")
		b.addr(ns, "eth0", "fd02::"+string(rune('2'+i))+"/64")
		b.route(ns, "default", "10.2.0.1", "")
	}
	a, dir := open(t, "brlab")
	syncLab(t, a, b.lab)
	mustPing(t, topo.Host, "10.2.0.2")
	mustPing(t, "bx", "10.2.0.3")
	mustPing(t, "by", "fd02::2")
	mustPing(t, "bx", "fd02::1")

	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	br, err := h.LinkByName("tbr0")
	if err != nil {
		t.Fatal(err)
	}
	if br.Attrs().Alias != "nsscript:brlab" || br.Attrs().MTU != 1400 || br.Attrs().Flags&1 == 0 {
		t.Errorf("bridge: alias %q, mtu %d, flags %v", br.Attrs().Alias, br.Attrs().MTU, br.Attrs().Flags)
	}
	port, err := h.LinkByName("bx-br")
	if err != nil {
		t.Fatal(err)
	}
	// A port is known by its group and its bridge; it gets no alias.
	if port.Attrs().MasterIndex != br.Attrs().Index || port.Attrs().Alias != "" || port.Attrs().MTU != 1400 {
		t.Errorf("port: master %d (bridge %d), alias %q, mtu %d", port.Attrs().MasterIndex, br.Attrs().Index, port.Attrs().Alias, port.Attrs().MTU)
	}
	if g := topo.LinkGroup("brlab"); br.Attrs().Group != g || port.Attrs().Group != g {
		t.Errorf("groups: bridge %d, port %d, want the lab's, %d", br.Attrs().Group, port.Attrs().Group, g)
	}
	if q := port.Attrs(); q.NumTxQueues != topo.VethQueues || q.NumRxQueues != topo.VethQueues {
		t.Errorf("port: %d transmit and %d receive queues, want %d", q.NumTxQueues, q.NumRxQueues, topo.VethQueues)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Down(context.Background(), dir, "brlab"); err != nil {
		t.Fatal(err)
	}
	sameNetwork(t, "after down", before, snapshot(t, "bx", "by"))
}

// A bridge in the host with more ports than one batch of lookups: Sync
// checks them in one dump of the host, and returns only once every port
// and the bridge run.
func TestBigBridgeReady(t *testing.T) {
	needKernel(t)
	const n = 2*batchMax + 3
	b := newLab(t, "bigbr")
	b.bridge(topo.Host, "tbig0", 0)
	b.addr(topo.Host, "tbig0", "10.9.0.1/24")
	for i := 1; i <= n; i++ {
		ns := fmt.Sprintf("big%d", i)
		b.netns(ns)
		b.veth(ns, "eth0", topo.Host, fmt.Sprintf("big%d@tbig0", i), 0)
		b.addr(ns, "eth0", fmt.Sprintf("10.9.0.%d/24", i+1))
	}
	a, dir := open(t, "bigbr")
	syncLab(t, a, b.lab)
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	links, err := h.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, l := range links {
		if l.Attrs().Group == topo.LinkGroup("bigbr") {
			if l.Attrs().OperState != netlink.OperUp {
				t.Errorf("%s is %s right after Sync", l.Attrs().Name, l.Attrs().OperState)
			}
			running++
		}
	}
	if running != n+1 {
		t.Errorf("%d links of the lab in the host, want %d", running, n+1)
	}
	mustPing(t, "big1", fmt.Sprintf("10.9.0.%d", n+1))
	mustPing(t, topo.Host, "10.9.0.2")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Down(context.Background(), dir, "bigbr"); err != nil {
		t.Fatal(err)
	}
}

// Routes through a router namespace, over IPv4 and IPv6, with forwarding
// turned on by sysctls.
func TestRouteViaGateway(t *testing.T) {
	needKernel(t)
	b := newLab(t, "routes")
	b.netns("ra")
	b.netns("rr")
	b.netns("rb")
	b.veth("ra", "eth0", "rr", "ra0", 0)
	b.veth("rb", "eth0", "rr", "rb0", 0)
	b.sysctl("rr", "net.ipv4.ip_forward", "1")
	b.sysctl("rr", "net.ipv6.conf.all.forwarding", "1")
	b.addr("ra", "eth0", "10.3.1.2/24")
	b.addr("rr", "ra0", "10.3.1.1/24")
	b.addr("rr", "rb0", "10.3.2.1/24")
	b.addr("rb", "eth0", "10.3.2.2/24")
	b.addr("ra", "eth0", "fd03:1::2/64")
	b.addr("rr", "ra0", "fd03:1::1/64")
	b.addr("rr", "rb0", "fd03:2::1/64")
	b.addr("rb", "eth0", "fd03:2::2/64")
	b.route("ra", "10.3.2.0/24", "10.3.1.1", "")
	b.route("rb", "default", "10.3.2.1", "eth0")
	b.route("ra", "fd03:2::/64", "fd03:1::1", "")
	b.route("rb", "default6", "fd03:2::1", "")
	if err := b.lab.Check(); err != nil {
		t.Fatal(err)
	}
	a, _ := open(t, "routes")
	syncLab(t, a, b.lab)
	mustPing(t, "ra", "10.3.2.2")
	mustPing(t, "ra", "fd03:2::2")
	mustPing(t, "rb", "fd03:1::2")
	if got := sysctlIn(t, "rr", "net.ipv4.ip_forward"); got != "1" {
		t.Errorf("ip_forward in rr = %s", got)
	}
}

// Masquerade: "inet" has no route back to the LAN, so only NAT in the
// router makes it answer. Added in a second Sync, as a script that pings
// in between would.
func TestMasquerade(t *testing.T) {
	needKernel(t)
	b := newLab(t, "nat")
	b.netns("nlan")
	b.netns("nrtr")
	b.netns("ninet")
	b.veth("nlan", "eth0", "nrtr", "lan", 0)
	b.veth("ninet", "eth0", "nrtr", "wan", 0)
	b.addr("nlan", "eth0", "10.4.0.2/24")
	b.addr("nrtr", "lan", "10.4.0.1/24")
	b.addr("nrtr", "wan", "198.51.100.1/24")
	b.addr("ninet", "eth0", "198.51.100.2/24")
	b.route("nlan", "default", "10.4.0.1", "")
	a, _ := open(t, "nat")
	syncLab(t, a, b.lab)
	if ping(t, "nlan", "198.51.100.2") {
		t.Fatal("inet answers without masquerade")
	}
	b.masquerade("nrtr", "10.4.0.0/24", "wan")
	syncLab(t, a, b.lab)
	mustPing(t, "nlan", "198.51.100.2")
	if got := sysctlIn(t, "nrtr", "net.ipv4.ip_forward"); got != "1" {
		t.Errorf("ip_forward in the router = %s, want 1", got)
	}
	out, _, _, err := Exec(context.Background(), "nrtr", []string{"iptables-save", "-t", "nat"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `-A POSTROUTING -s 10.4.0.0/24 -o wan -m comment --comment "nsscript:nat" -j MASQUERADE`
	if !strings.Contains(string(out), want) {
		t.Errorf("iptables-save in the router lacks %s:\n%s", want, out)
	}
}

// Masquerade and sysctls in the host: Down restores the values and removes
// the rule exactly, leaving a foreign rule of the same chain alone.
func TestHostChangesRestored(t *testing.T) {
	needKernel(t)
	foreign := []string{"-t", "nat", "-A", "POSTROUTING", "-s", "10.5.0.0/24", "-j", "MASQUERADE"}
	if out, err := exec.Command("iptables", foreign...).CombinedOutput(); err != nil {
		t.Fatalf("iptables: %v\n%s", err, out)
	}
	defer exec.Command("iptables", append([]string{"-t", "nat", "-D"}, foreign[3:]...)...).Run()
	before := snapshot(t, "hs")
	fwd := readSysctlHost(t, "net.ipv4.ip_forward")
	rp := readSysctlHost(t, "net.ipv4.conf.all.rp_filter")
	newRP := "2"
	if rp == "2" {
		newRP = "1"
	}

	b := newLab(t, "hostlab")
	b.netns("hs")
	b.veth("hs", "eth0", topo.Host, "hs0", 0)
	b.addr("hs", "eth0", "10.5.0.2/24")
	b.addr(topo.Host, "hs0", "10.5.0.1/24")
	b.sysctl(topo.Host, "net.ipv4.conf.all.rp_filter", newRP)
	b.sysctl("hs", "net.ipv4.conf.all.rp_filter", newRP)
	b.masquerade(topo.Host, "10.5.0.0/24", "")
	a, dir := open(t, "hostlab")
	syncLab(t, a, b.lab)
	if got := readSysctlHost(t, "net.ipv4.conf.all.rp_filter"); got != newRP {
		t.Errorf("rp_filter = %s, want %s", got, newRP)
	}
	if got := readSysctlHost(t, "net.ipv4.ip_forward"); got != "1" {
		t.Errorf("ip_forward = %s, want 1", got)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	labs, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Netns: 1, Links: 2, Addrs: 2, Routes: 0, Rules: 1, Sysctls: 3}
	if fwd == "1" {
		want.Sysctls--
	}
	if len(labs) != 1 || labs[0].Name != "hostlab" || labs[0].State != StateUp || labs[0].Counts != want || labs[0].Script != "lab.star" {
		t.Errorf("List = %+v, want hostlab up with %+v", labs, want)
	}
	if err := Down(context.Background(), dir, "hostlab"); err != nil {
		t.Fatal(err)
	}
	sameNetwork(t, "after down", before, snapshot(t, "hs"))
	if got := readSysctlHost(t, "net.ipv4.ip_forward"); got != fwd {
		t.Errorf("ip_forward = %s after down, want %s", got, fwd)
	}
}

// A name that something else has is an error at the position of the call,
// the foreign object is left untouched, and Abort restores the machine.
func TestForeignNames(t *testing.T) {
	needKernel(t)
	run := func(argv ...string) {
		t.Helper()
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", argv, err, out)
		}
	}
	run("ip", "link", "add", "frn0", "type", "veth", "peer", "name", "frn1")
	defer exec.Command("ip", "link", "del", "frn0").Run()
	run("ip", "netns", "add", "frns")
	defer exec.Command("ip", "netns", "del", "frns").Run()
	before := snapshot(t, "fa", "frns")

	cases := []struct {
		name    string
		declare func(b *builder)
		msg     string
	}{{
		name: "veth end",
		declare: func(b *builder) {
			b.netns("fa")
			b.bridge(topo.Host, "fbr", 0)
			b.veth("fa", "eth0", topo.Host, "frn1@fbr", 0) // line 3
			b.addr("fa", "eth0", "10.6.0.1/24")
		},
		msg: "lab.star:3:1: veth eth0 (namespace fa): interface frn1 in the host exists and is not this lab's; remove it or pick another name",
	}, {
		name: "bridge",
		declare: func(b *builder) {
			b.netns("fa")
			b.veth("fa", "eth0", topo.Host, "fa0", 0)
			b.addr("fa", "eth0", "10.6.0.1/24")
			b.bridge(topo.Host, "frn0", 0) // line 4
		},
		msg: "lab.star:4:1: bridge frn0 (host): interface frn0 in the host exists and is not this lab's",
	}, {
		name: "netns",
		declare: func(b *builder) {
			b.netns("fa")
			b.veth("fa", "eth0", topo.Host, "fa0", 0)
			b.netns("frns") // line 3
		},
		msg: "lab.star:3:1: netns frns: /run/netns/frns exists and is not this lab's",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newLab(t, "foreign")
			c.declare(b)
			a, dir := open(t, "foreign")
			err := a.Sync(context.Background(), b.lab)
			if err == nil {
				t.Fatal("Sync succeeded")
			}
			if !errors.Is(err, unix.EEXIST) || !strings.HasPrefix(err.Error(), c.msg) {
				t.Errorf("error %q (EEXIST: %v), want %q", err, errors.Is(err, unix.EEXIST), c.msg)
			}
			var kerr *Error
			if !errors.As(err, &kerr) {
				t.Errorf("error %T is not a *kernel.Error", err)
			}
			if err := a.Abort(context.Background()); err != nil {
				t.Fatal(err)
			}
			sameNetwork(t, "after abort", before, snapshot(t, "fa", "frns"))
			stateEmpty(t, dir)
		})
	}
}

// A kernel error half-way leaves part of the lab built; Abort removes it
// all, including the host ends of veths whose namespace it deletes.
func TestAbortMidApply(t *testing.T) {
	needKernel(t)
	if out, err := exec.Command("ip", "link", "add", "busy0", "type", "bridge").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	defer exec.Command("ip", "link", "del", "busy0").Run()
	before := snapshot(t, "m1", "m2")
	b := newLab(t, "mid")
	b.netns("m1")
	b.netns("m2")
	b.bridge(topo.Host, "mbr", 0)
	b.veth("m1", "eth0", topo.Host, "m1-br@mbr", 0)
	b.veth("m2", "eth0", topo.Host, "m2-br@mbr", 0)
	b.veth(topo.Host, "mh0", topo.Host, "mh1", 0)
	b.addr(topo.Host, "mbr", "10.7.0.1/24")
	b.sysctl(topo.Host, "net.ipv6.conf.all.forwarding", "1")
	a, dir := open(t, "mid")
	syncLab(t, a, b.lab)
	b.veth("m1", "e1", topo.Host, "busy0", 0)
	err := a.Sync(context.Background(), b.lab)
	if !errors.Is(err, unix.EEXIST) {
		t.Fatalf("Sync: %v, want EEXIST", err)
	}
	if err := a.Sync(context.Background(), b.lab); err == nil {
		t.Fatal("Sync after a failed Sync succeeded")
	}
	if err := a.Abort(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameNetwork(t, "after abort", before, snapshot(t, "m1", "m2"))
	stateEmpty(t, dir)
}

// RollbackTo undoes one step, including changes inside a namespace that
// stays; the rest of the lab keeps working and the names can be used again.
func TestRollbackTo(t *testing.T) {
	needKernel(t)
	before := snapshot(t, "ka", "kb", "kc")
	b := newLab(t, "repl")
	b.netns("ka")
	b.netns("kb")
	b.veth("ka", "eth0", "kb", "eth0", 0)
	b.addr("ka", "eth0", "10.8.0.1/24")
	b.addr("kb", "eth0", "10.8.0.2/24")
	a, dir := open(t, "repl")
	syncLab(t, a, b.lab)
	mid := snapshot(t, "ka", "kb", "kc")

	sp, mark := a.Savepoint(), b.lab.Mark()
	step := func() {
		b.netns("kc")
		b.veth("kb", "kc0", "kc", "eth0", 0)
		b.veth("ka", "hk0", topo.Host, "hk1", 0)
		b.addr("ka", "eth0", "10.8.1.1/24")
		b.addr("kc", "eth0", "10.8.2.2/24")
		b.addr("kb", "kc0", "10.8.2.1/24")
		b.route("ka", "10.8.2.0/24", "10.8.0.2", "")
		b.sysctl("kb", "net.ipv4.ip_forward", "1")
		b.route("kc", "default", "10.8.2.1", "")
	}
	step()
	syncLab(t, a, b.lab)
	mustPing(t, "ka", "10.8.2.2")
	if err := a.RollbackTo(context.Background(), sp); err != nil {
		t.Fatal(err)
	}
	b.lab.Truncate(mark)
	sameNetwork(t, "after rollback", mid, snapshot(t, "ka", "kb", "kc"))
	mustPing(t, "ka", "10.8.0.2")

	step()
	syncLab(t, a, b.lab)
	mustPing(t, "ka", "10.8.2.2")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Down(context.Background(), dir, "repl"); err != nil {
		t.Fatal(err)
	}
	sameNetwork(t, "after down", before, snapshot(t, "ka", "kb", "kc"))
}

// A process started in a namespace keeps it alive after Down unmounts it,
// and with it the veth peers in the host: Down deletes those itself.
func TestDownWhileNamespaceHeld(t *testing.T) {
	needKernel(t)
	defer func(d time.Duration) { stallTimeout = d }(stallTimeout)
	stallTimeout = 100 * time.Millisecond
	before := snapshot(t, "hold")
	b := newLab(t, "held")
	b.netns("hold")
	b.veth("hold", "eth0", topo.Host, "hold0", 0)
	a, dir := open(t, "held")
	syncLab(t, a, b.lab)
	out, _, code, err := a.Exec(context.Background(), "hold", []string{"sh", "-c", "sleep 60 >/dev/null 2>&1 </dev/null & echo $!"}, nil)
	if err != nil || code != 0 {
		t.Fatalf("exec: %v (exit %d)", err, code)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	defer unix.Kill(pid, unix.SIGKILL)
	a.Close()
	if err := Down(context.Background(), dir, "held"); err != nil {
		t.Fatal(err)
	}
	sameNetwork(t, "after down", before, snapshot(t, "hold"))
}

// One lab cannot be opened twice, nor again while it is up.
func TestOpenStates(t *testing.T) {
	needKernel(t)
	dir := t.TempDir()
	a, err := Open(dir, "twice", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, "twice", Meta{}); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Open: %v, want ErrBusy", err)
	}
	if err := Down(context.Background(), dir, "twice"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Down while applying: %v, want ErrBusy", err)
	}
	labs, _ := List(dir)
	if len(labs) != 1 || labs[0].State != StateApplying {
		t.Fatalf("List while applying = %+v", labs)
	}
	b := newLab(t, "twice")
	b.netns("tw")
	syncLab(t, a, b.lab)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, "twice", Meta{})
	if !errors.Is(err, ErrUp) || !strings.Contains(err.Error(), "nsscript down twice") {
		t.Fatalf("Open of a lab that is up: %v", err)
	}
	if err := Down(context.Background(), dir, "twice"); err != nil {
		t.Fatal(err)
	}
	// An applier that changed nothing leaves a journal with nothing in
	// it; opening again just starts afresh.
	a, err = Open(dir, "twice", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	a.Abort(context.Background())
	stateEmpty(t, dir)
}

func TestExec(t *testing.T) {
	needKernel(t)
	b := newLab(t, "exec")
	b.netns("ex")
	a, _ := open(t, "exec")
	syncLab(t, a, b.lab)
	ctx := context.Background()
	out, _, code, err := a.Exec(ctx, "ex", []string{"sh", "-c", "cat; ls /sys/class/net >/dev/null; readlink /proc/self/ns/net; exit 3"}, strings.NewReader("in\n"))
	if err != nil || code != 3 {
		t.Fatalf("exec: code %d, err %v", code, err)
	}
	self, _ := os.Readlink("/proc/self/ns/net")
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || lines[0] != "in" || lines[1] == self {
		t.Errorf("output %q: want stdin echoed and another namespace than %s", out, self)
	}
	// Still in the host afterwards: the thread that forked went back.
	if now, _ := os.Readlink("/proc/thread-self/ns/net"); now != self {
		t.Errorf("this thread is in %s, want %s", now, self)
	}
	_, errOut, code, err := a.Exec(ctx, topo.Host, []string{"sh", "-c", "echo oops >&2; kill -9 $$"}, nil)
	if err != nil || code != 128+9 || string(errOut) != "oops\n" {
		t.Errorf("killed: code %d, stderr %q, err %v", code, errOut, err)
	}
	if _, _, _, err := a.Exec(ctx, "ex", []string{"/no/such/program"}, nil); err == nil {
		t.Error("exec of a missing program succeeded")
	}
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, _, err = a.Exec(cctx, "ex", []string{"sh", "-c", "sleep 30 & sleep 30"}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("cancelled exec: %v after %v", err, time.Since(start))
	}
}

// helperEnv makes the test binary a process that builds a lab and can be
// killed at any moment.
const helperEnv = "NSSCRIPT_KERNEL_TEST_HELPER"

// helperLab declares a lab with something of every kind, in the host
// too, calling step after each part of it, as a script that calls exec()
// in between would.
func helperLab(t tb, step func(*topo.Lab) error) error {
	b := newLab(t, "killed")
	b.bridge(topo.Host, "kbr0", 0)
	b.addr(topo.Host, "kbr0", "10.9.0.1/16")
	b.netns("kworld")
	b.veth(topo.Host, "k-world", "kworld", "eth0", 0)
	b.veth(topo.Host, "k-h0", topo.Host, "k-h1", 0)
	b.addr(topo.Host, "k-world", "10.10.0.1/24")
	b.addr("kworld", "eth0", "10.10.0.2/24")
	b.masquerade(topo.Host, "10.9.0.0/16", "")
	b.sysctl(topo.Host, "net.ipv4.conf.all.rp_filter", "2")
	if err := step(b.lab); err != nil {
		return err
	}
	for i := 1; i <= 30; i++ {
		ns := "k" + itoa(i)
		b.netns(ns)
		b.veth(ns, "eth0", topo.Host, ns+"-br@kbr0", 0)
		b.veth(ns, "w0", "kworld", "w"+itoa(i), 0)
		b.addr(ns, "eth0", "10.9.0."+itoa(i+1)+"/16")
		b.addr(ns, "w0", "fd00:"+itoa(i)+"::1/64")
		b.addr("kworld", "w"+itoa(i), "fd00:"+itoa(i)+"::2/64")
		b.route(ns, "default", "10.9.0.1", "")
		b.route(topo.Host, "10.11."+itoa(i)+".0/24", "10.9.0."+itoa(i+1), "")
		if i%10 == 0 {
			if err := step(b.lab); err != nil {
				return err
			}
		}
	}
	return nil
}

func itoa(i int) string { return strconv.Itoa(i) }

// panicker stands in for a *testing.T outside a test.
type panicker struct{}

func (panicker) Helper()                           {}
func (panicker) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// helperMain builds helperLab, saying "up" at the end.
func helperMain() int {
	a, err := Open(os.Getenv("NSSCRIPT_STATE_DIR"), "killed", Meta{Script: "killed.star"})
	if err == nil {
		err = helperLab(panicker{}, func(l *topo.Lab) error { return a.Sync(context.Background(), l) })
	}
	if err == nil {
		err = a.Close()
	}
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	os.Stdout.WriteString("up\n")
	return 0
}

// Down cleans up after a process killed with SIGKILL at moments spread
// over its apply.
func TestDownAfterKill(t *testing.T) {
	needKernel(t)
	nss := []string{"kworld", "k1", "k30"}
	before := snapshot(t, nss...)
	state := t.TempDir()
	helper := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=1", "NSSCRIPT_STATE_DIR="+state)
		cmd.Stderr = os.Stderr
		return cmd
	}
	start := time.Now()
	cmd := helper()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	full := time.Since(start)
	if err := cmd.Wait(); err != nil || line != "up\n" {
		t.Fatalf("helper: %v, said %q", err, line)
	}
	t.Logf("a whole run takes %v", full)
	if err := Down(context.Background(), state, "killed"); err != nil {
		t.Fatal(err)
	}
	sameNetwork(t, "after down", before, snapshot(t, nss...))

	const kills = 8
	for i := range kills {
		delay := full * time.Duration(i) / kills
		cmd := helper()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Signal(unix.SIGKILL)
		cmd.Wait()
		if labs, _ := List(state); len(labs) == 1 && labs[0].State != StateIncomplete && labs[0].State != StateUp {
			t.Errorf("List after a kill: %+v", labs[0])
		}
		err := Down(context.Background(), state, "killed")
		if err != nil && !errors.Is(err, ErrNotUp) {
			t.Fatalf("down after a kill at %v: %v", delay, err)
		}
		sameNetwork(t, "down after a kill at "+delay.String(), before, snapshot(t, nss...))
		stateEmpty(t, state)
	}
	if _, err := os.Stat(filepath.Join(state, "killed")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state of the lab still there: %v", err)
	}
}

// Down from hand-written journals: a host link is taken for the lab's when
// it carries the lab's group (which the lab sets in the message that
// creates the link) or its alias, in any record, whether the run finished
// or not; a link with neither is someone else's, even under the name of
// the journal's last record; a record amended as failed deletes nothing;
// a torn last line is ignored.
func TestDownOwnership(t *testing.T) {
	needKernel(t)
	exists := func(name string) bool {
		return exec.Command("ip", "link", "show", name).Run() == nil
	}
	write := func(dir string, meta string, lines ...string) {
		t.Helper()
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, metaFile), []byte(meta), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, journalFile), []byte(strings.Join(lines, "")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const (
		unfinished = `{"name":"own","pid":1}`
		finished   = `{"name":"own","pid":1,"finished":"2025-01-01T00:00:00Z"}`
		veth       = `{"seq":1,"op":"veth","ns":"","name":"own0","peer":"own1"}` + "\n"
	)
	group := strconv.FormatUint(uint64(topo.LinkGroup("own")), 10)
	state := t.TempDir()
	for _, c := range []struct {
		name, meta string
		lines      []string
		mark       []string // ip link add own0 ... arguments that mark it
		alias      bool     // set the lab's alias afterwards (it cannot be set in the creation)
		gone       bool
	}{{
		name:  "group, in flight",
		meta:  unfinished,
		lines: []string{veth, `{"seq":2,"op":"ad`},
		mark:  []string{"group", group},
		gone:  true,
	}, {
		name:  "group, finished",
		meta:  finished,
		lines: []string{veth, `{"seq":2,"op":"sysctl","ns":"","key":"net.ipv4.ip_forward","value":"1"}` + "\n"},
		mark:  []string{"group", group},
		gone:  true,
	}, {
		name:  "alias",
		meta:  finished,
		lines: []string{veth},
		alias: true,
		gone:  true,
	}, {
		name:  "unmarked, in flight",
		meta:  unfinished,
		lines: []string{veth, `{"seq":2,"op":"ad`},
	}, {
		name:  "another group",
		meta:  finished,
		lines: []string{veth},
		mark:  []string{"group", "7"},
	}, {
		name:  "failed",
		meta:  unfinished,
		lines: []string{veth, `{"seq":2,"op":"fail","ref":1}` + "\n"},
		mark:  []string{"group", group},
	}} {
		t.Run(c.name, func(t *testing.T) {
			argv := append(append([]string{"link", "add", "own0"}, c.mark...), "type", "veth", "peer", "name", "own1")
			if out, err := exec.Command("ip", argv...).CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			defer exec.Command("ip", "link", "del", "own0").Run()
			if c.alias {
				if out, err := exec.Command("ip", "link", "set", "own0", "alias", "nsscript:own").CombinedOutput(); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
			}
			write(filepath.Join(state, "own"), c.meta, c.lines...)
			if err := Down(context.Background(), state, "own"); err != nil {
				t.Fatal(err)
			}
			if gone := !exists("own0") && !exists("own1"); gone != c.gone {
				t.Errorf("link gone: %v, want %v", gone, c.gone)
			}
			stateEmpty(t, state)
		})
	}
}
