package kernel

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"nsscript/sandbox"
	"nsscript/topo"
)

// TestMain runs the tests inside a private network and mount namespace
// (when root), or runs the helper a test started as a subprocess.
func TestMain(m *testing.M) {
	os.Exit(sandbox.Run(func() int {
		if os.Getenv(helperEnv) != "" {
			return helperMain()
		}
		return m.Run()
	}))
}

func needKernel(t *testing.T) {
	t.Helper()
	if !sandbox.Inside() {
		t.Skip("kernel tests need root: they run inside a private network namespace")
	}
}

// tb is the part of testing.TB a builder needs.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// builder declares a lab as a script would, one "line" per call.
type builder struct {
	t    tb
	lab  *topo.Lab
	line int
}

func newLab(t tb, name string) *builder {
	return &builder{t: t, lab: &topo.Lab{Name: name}}
}

func (b *builder) pos() topo.Pos {
	b.line++
	return topo.Pos{File: "lab.star", Line: b.line, Col: 1}
}

func (b *builder) must(err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatalf("lab.star:%d: %v", b.line, err)
	}
}

func (b *builder) netns(name string) {
	b.t.Helper()
	b.must(b.lab.AddNetns(&topo.Netns{Name: name, Pos: b.pos()}))
}

func (b *builder) bridge(ns, name string, mtu int) {
	b.t.Helper()
	b.must(b.lab.AddBridge(&topo.Bridge{NS: ns, Name: name, MTU: mtu, Pos: b.pos()}))
}

// veth declares a pair; an end "name@master" is enslaved to master.
func (b *builder) veth(nsA, a, nsB, bb string, mtu int) {
	b.t.Helper()
	end := func(ns, s string) topo.End {
		name, master, _ := strings.Cut(s, "@")
		return topo.End{NS: ns, Name: name, Master: master}
	}
	b.must(b.lab.AddVeth(&topo.Veth{A: end(nsA, a), B: end(nsB, bb), MTU: mtu, Pos: b.pos()}))
}

func (b *builder) addr(ns, dev, cidr string) {
	b.t.Helper()
	p, err := topo.ParseCIDR(cidr)
	b.must(err)
	b.must(b.lab.AddAddr(&topo.Addr{NS: ns, Dev: dev, Prefix: p, Pos: b.pos()}))
}

func (b *builder) route(ns, dst, via, dev string) {
	b.t.Helper()
	d, err := topo.ParseDst(dst)
	b.must(err)
	r := &topo.Route{NS: ns, Dst: d, Dev: dev, Pos: b.pos()}
	if via != "" {
		r.Via = netip.MustParseAddr(via)
	}
	b.must(b.lab.AddRoute(r))
}

func (b *builder) masquerade(ns, src, out string) {
	b.t.Helper()
	b.must(b.lab.AddMasquerade(&topo.Masquerade{NS: ns, Src: netip.MustParsePrefix(src), Out: out, Pos: b.pos()}))
}

func (b *builder) sysctl(ns, key, value string) {
	b.t.Helper()
	b.must(b.lab.AddSysctl(&topo.Sysctl{NS: ns, Key: key, Value: value, Pos: b.pos()}))
}

// open starts a run of the lab in a fresh state directory, and makes sure
// the test leaves nothing behind even when it fails.
func open(t *testing.T, lab string) (*Applier, string) {
	t.Helper()
	dir := t.TempDir()
	a, err := Open(dir, lab, Meta{Script: "lab.star", Vars: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Abort(context.Background())
		Down(context.Background(), dir, lab)
	})
	return a, dir
}

func syncLab(t *testing.T, a *Applier, lab *topo.Lab) {
	t.Helper()
	if err := a.Sync(context.Background(), lab); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

// ping reports whether dst answers one echo request from ns at once: no
// retries, since a lab must be ready when Sync returns.
func ping(t *testing.T, ns, dst string) bool {
	t.Helper()
	_, _, code, err := Exec(context.Background(), ns, []string{"ping", "-n", "-q", "-c", "1", "-W", "1", dst}, nil)
	if err != nil {
		t.Fatalf("ping: %v", err)
	}
	return code == 0
}

func mustPing(t *testing.T, ns, dst string) {
	t.Helper()
	if !ping(t, ns, dst) {
		t.Errorf("%s cannot ping %s", where(ns), dst)
	}
}

// snapshot describes the network as seen from the host and the namespaces
// named: namespaces, links, addresses, routes, iptables rules and sysctls.
// It uses ip(8) and iptables-save(8), independent of the code under test.
func snapshot(t *testing.T, nss ...string) string {
	t.Helper()
	var b strings.Builder
	entries, _ := os.ReadDir(netnsDir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	fmt.Fprintf(&b, "netns: %v\n", names)
	for _, ns := range append([]string{topo.Host}, nss...) {
		fmt.Fprintf(&b, "== %s\n", where(ns))
		if ns != topo.Host {
			if _, err := os.Stat(netnsPath(ns)); err != nil {
				b.WriteString("absent\n")
				continue
			}
		}
		run := func(argv ...string) {
			if ns != topo.Host {
				argv = append([]string{"ip", "netns", "exec", ns}, argv...)
			}
			out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %v\n%s", argv, err, out)
			}
			b.Write(out)
		}
		run("ip", "-d", "-o", "link", "show")
		run("ip", "-o", "addr", "show")
		run("ip", "route", "show", "table", "all")
		run("ip", "-6", "route", "show", "table", "all")
		var rules []string
		if ns == topo.Host {
			out, _ := exec.Command("iptables-save").Output()
			rules = iptablesRules(string(out))
		} else {
			out, _ := exec.Command("ip", "netns", "exec", ns, "iptables-save").Output()
			rules = iptablesRules(string(out))
		}
		fmt.Fprintf(&b, "iptables: %q\n", rules)
		for _, key := range []string{"net.ipv4.ip_forward", "net.ipv4.conf.all.rp_filter", "net.ipv6.conf.all.forwarding"} {
			run("sysctl", key)
		}
	}
	return b.String()
}

// iptablesRules keeps the rules of iptables-save output: tables, once
// made, stay registered, empty, after their last rule is deleted.
func iptablesRules(save string) []string {
	var rules []string
	for _, l := range strings.Split(save, "\n") {
		if strings.HasPrefix(l, "-A ") || strings.HasPrefix(l, "-N ") {
			rules = append(rules, l)
		}
	}
	sort.Strings(rules)
	return rules
}

func sameNetwork(t *testing.T, what, before, after string) {
	t.Helper()
	if before == after {
		return
	}
	a, b := strings.Split(before, "\n"), strings.Split(after, "\n")
	ina, inb := map[string]bool{}, map[string]bool{}
	for _, l := range a {
		ina[l] = true
	}
	for _, l := range b {
		inb[l] = true
	}
	var d strings.Builder
	for _, l := range a {
		if !inb[l] {
			d.WriteString("- " + l + "\n")
		}
	}
	for _, l := range b {
		if !ina[l] {
			d.WriteString("+ " + l + "\n")
		}
	}
	t.Fatalf("%s: the network changed:\n%s", what, d.String())
}

func stateEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("state dir %s still holds %v", dir, names)
	}
}

func readSysctlHost(t *testing.T, key string) string {
	t.Helper()
	v, err := os.ReadFile(filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/")))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(v))
}

func sysctlIn(t *testing.T, ns, key string) string {
	t.Helper()
	out, _, code, err := Exec(context.Background(), ns, []string{"sysctl", "-n", key}, nil)
	if err != nil || code != 0 {
		t.Fatalf("sysctl -n %s in %s: %v (exit %d)", key, where(ns), err, code)
	}
	return strings.TrimSpace(string(out))
}
