package kernel

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"nsscript/topo"
)

// permanent lists the permanent neighbour entries of ns as "dev addr mac".
func permanent(t *testing.T, ns string) string {
	t.Helper()
	argv := []string{"ip", "neigh", "show", "nud", "permanent"}
	out, _, code, err := Exec(context.Background(), ns, argv, nil)
	if err != nil || code != 0 {
		t.Fatalf("%v in %s: %v (exit %d)", argv, where(ns), err, code)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l) // ADDR dev DEV lladdr MAC PERMANENT
		if len(f) >= 5 {
			lines = append(lines, f[2]+" "+f[0]+" "+f[4])
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func linkMAC(t *testing.T, ns, dev string) string {
	t.Helper()
	// ip, not /sys: Exec changes the network namespace only.
	out, _, _, err := Exec(context.Background(), ns, []string{"ip", "-br", "link", "show", "dev", dev}, nil)
	if f := strings.Fields(string(out)); err == nil && len(f) >= 3 {
		return f[2]
	}
	t.Fatalf("ip link show dev %s in %s: %v: %s", dev, where(ns), err, out)
	return ""
}

// Interfaces get the lab's MAC addresses; permanent neighbour entries are
// made in lab namespaces and in the host, answer at once, and are undone
// by RollbackTo (the namespaces stay) and by Down.
func TestNeighbors(t *testing.T) {
	needKernel(t)
	before := snapshot(t, "na", "nb")
	hostBefore := permanent(t, topo.Host)
	b := newLab(t, "neigh")
	b.bridge(topo.Host, "tnb0", 0)
	b.addr(topo.Host, "tnb0", "10.3.0.1/24")
	for i, ns := range []string{"na", "nb"} {
		b.netns(ns)
		b.veth(ns, "eth0", topo.Host, ns+"-br@tnb0", 0)
		b.addr(ns, "eth0", "10.3.0."+string(rune('2'+i))+"/24")
		b.addr(ns, "eth0", "fd03::"+string(rune('2'+i))+"/64")
	}
	a, dir := open(t, "neigh")
	syncLab(t, a, b.lab)

	for _, c := range []struct{ ns, dev, want string }{
		{topo.Host, "tnb0", b.lab.Bridges[0].MAC.String()},
		{"na", "eth0", b.lab.Veths[0].A.MAC.String()},
		{topo.Host, "nb-br", b.lab.Veths[1].B.MAC.String()},
	} {
		if got := linkMAC(t, c.ns, c.dev); got != c.want {
			t.Errorf("%s in %s has MAC %s, the lab says %s", c.dev, where(c.ns), got, c.want)
		}
	}

	sp, mark := a.Savepoint(), b.lab.Mark()
	addNeighbors := func() {
		for _, n := range b.lab.SegmentNeighbors(b.pos()) {
			b.must(b.lab.AddNeighbor(n))
		}
		syncLab(t, a, b.lab)
	}
	addNeighbors()
	macA, macB, macBr := b.lab.Veths[0].A.MAC, b.lab.Veths[1].A.MAC, b.lab.Bridges[0].MAC
	wantHost := "tnb0 10.3.0.2 " + macA.String() + "\ntnb0 10.3.0.3 " + macB.String()
	if got := permanent(t, topo.Host); !strings.Contains(got, wantHost) {
		t.Errorf("host's permanent entries:\n%s\nwant:\n%s", got, wantHost)
	}
	wantA := "eth0 10.3.0.1 " + macBr.String() + "\neth0 10.3.0.3 " + macB.String() + "\neth0 fd03::3 " + macB.String()
	if got := permanent(t, "na"); got != wantA {
		t.Errorf("na's permanent entries:\n%s\nwant:\n%s", got, wantA)
	}

	start := time.Now()
	results := a.Probe(context.Background(), []topo.Probe{
		{Src: "na", Dst: mustAddr("10.3.0.3")},
		{Src: "nb", Dst: mustAddr("fd03::2")},
		{Src: topo.Host, Dst: mustAddr("10.3.0.2")},
		{Src: "na", Dst: mustAddr("10.3.0.9")}, // nobody
	}, 1, 300*time.Millisecond)
	for i, r := range results[:3] {
		if !r.Answered() || r.RTT <= 0 {
			t.Errorf("probe %d: %+v, want answered", i, r)
		}
	}
	if r := results[3]; r.Err != nil || r.Received != 0 || r.Sent != 1 {
		t.Errorf("probe of nobody: %+v, want 0 of 1 answered", r)
	}
	t.Logf("4 probes in %v", time.Since(start))
	if r := a.Probe(context.Background(), []topo.Probe{{Src: "nosuch", Dst: mustAddr("10.3.0.2")}}, 1, time.Second)[0]; r.Err == nil {
		t.Errorf("probe from a missing namespace: %+v, want an error", r)
	}

	journal, err := os.ReadFile(filepath.Join(dir, "neigh", journalFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(journal), `"op":"neigh"`); n != 3 {
		t.Errorf("journal has %d neigh records, want 3 (one per interface):\n%s", n, journal)
	}

	if err := a.RollbackTo(context.Background(), sp); err != nil {
		t.Fatal(err)
	}
	b.lab.Truncate(mark)
	if got := permanent(t, topo.Host); got != hostBefore {
		t.Errorf("host's permanent entries after rollback:\n%s\nwant:\n%s", got, hostBefore)
	}
	if got := permanent(t, "na"); got != "" {
		t.Errorf("na's permanent entries after rollback:\n%s", got)
	}

	addNeighbors()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	labs, err := List(dir)
	if err != nil || len(labs) != 1 || labs[0].Counts.Neighbors != 8 {
		t.Errorf("List: %+v, %v; want 8 neighbour entries", labs, err)
	}
	if err := Down(context.Background(), dir, "neigh"); err != nil {
		t.Fatal(err)
	}
	sameNetwork(t, "after down", before, snapshot(t, "na", "nb"))
	if got := permanent(t, topo.Host); got != hostBefore {
		t.Errorf("host's permanent entries after down:\n%s\nwant:\n%s", got, hostBefore)
	}
}

// A Sync that fails after adding entries in the host leaves them to Abort,
// which removes them with the rest of the lab.
func TestNeighborsAbort(t *testing.T) {
	needKernel(t)
	hostBefore := permanent(t, topo.Host)
	b := newLab(t, "neighabort")
	b.bridge(topo.Host, "tnb1", 0)
	b.addr(topo.Host, "tnb1", "10.4.0.1/24")
	b.netns("nc")
	b.veth("nc", "eth0", topo.Host, "nc-br@tnb1", 0)
	b.addr("nc", "eth0", "10.4.0.2/24")
	for _, n := range b.lab.SegmentNeighbors(b.pos()) {
		b.must(b.lab.AddNeighbor(n))
	}
	// A route in the host whose gateway is off its link: the kernel
	// refuses it, and the Sync fails after the entries (the host's requests
	// go in one batch, entries before routes).
	b.route(topo.Host, "10.99.0.0/16", "10.5.0.77", "tnb1")
	a, dir := open(t, "neighabort")
	if err := a.Sync(context.Background(), b.lab); err == nil {
		t.Fatal("Sync succeeded, want a failure")
	}
	if got := permanent(t, topo.Host); !strings.Contains(got, "tnb1 10.4.0.2") {
		t.Errorf("the host lacks its entry before Abort:\n%s", got)
	}
	if err := a.Abort(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := permanent(t, topo.Host); got != hostBefore {
		t.Errorf("host's permanent entries after Abort:\n%s\nwant:\n%s", got, hostBefore)
	}
	stateEmpty(t, dir)
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
