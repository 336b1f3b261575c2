package builtins_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"nsscript/builtins"
	"nsscript/interp"
	"nsscript/topo"
)

// network is a fake backend: a probe is answered when answers says so
// for its source and destination, and fails to send when noRoute does.
type network struct {
	answers func(src string, dst netip.Addr) bool
	noRoute func(src string, dst netip.Addr) bool
	probes  []topo.Probe
	count   int
	timeout time.Duration
	syncs   int
}

func (n *network) Sync(context.Context, *topo.Lab) error { n.syncs++; return nil }

func (n *network) Exec(context.Context, string, []string, io.Reader) ([]byte, []byte, int, error) {
	return nil, nil, 0, nil
}

func (n *network) Probe(ctx context.Context, probes []topo.Probe, count int, timeout time.Duration) []topo.ProbeResult {
	n.probes, n.count, n.timeout = append(n.probes, probes...), count, timeout
	out := make([]topo.ProbeResult, len(probes))
	for i, p := range probes {
		out[i].Sent = count
		switch {
		case n.noRoute != nil && n.noRoute(p.Src, p.Dst):
			out[i].SendErr = syscall.ENETUNREACH
		case n.answers == nil || n.answers(p.Src, p.Dst):
			out[i].Received = count
		}
	}
	return out
}

// lan declares red, blue and green on a bridge with a host address.
const lan = `
br = bridge("br0", addr = "10.0.0.254/24")
red = netns("red")
blue = netns("blue")
green = netns("green")
for i, ns in enumerate([red, blue, green]):
    veth(ns, br, addr = ["10.0.0.%d/24" % (i + 1), "fe80::%d/64" % (i + 1)])
`

func exec(t *testing.T, n *network, src string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	s := interp.NewSession(interp.Options{Name: "t", Backend: n, Stdout: &out})
	err := s.ExecFile(context.Background(), "lab.star", lan+src)
	return out.String(), err
}

// line is the line of src (after lan) that a message should name.
func line(n int) string { return "lab.star:" + strconv.Itoa(strings.Count(lan, "\n")+n) + ":" }

func TestPing(t *testing.T) {
	n := &network{answers: func(src string, dst netip.Addr) bool { return dst.String() != "10.0.0.3" }}
	out, err := exec(t, n, `
print(ping(red, blue), ping(red, green), ping(host, "10.0.0.1/24"), ping(red, br, count = 3, timeout = "250ms"))
`)
	if err != nil {
		t.Fatal(interp.FormatError(err))
	}
	if out != "True False True True\n" {
		t.Errorf("printed %q", out)
	}
	want := []string{"red 10.0.0.2", "red 10.0.0.3", "host 10.0.0.1", "red 10.0.0.254"}
	for i, p := range n.probes {
		if got := topo.NSName(p.Src) + " " + p.Dst.String(); got != want[i] || p.Expect != topo.ExpectNothing {
			t.Errorf("probe %d: %s (expect %d), want %s", i, got, p.Expect, want[i])
		}
	}
	if n.count != 3 || n.timeout != 250*time.Millisecond {
		t.Errorf("last probe: count %d timeout %v", n.count, n.timeout)
	}
	if n.syncs < 4 {
		t.Errorf("%d syncs: each ping must apply the lab first", n.syncs)
	}
}

func TestExpect(t *testing.T) {
	// green drops everything; red has no route to 10.9.0.0/16.
	n := &network{
		answers: func(src string, dst netip.Addr) bool { return src != "green" && dst.String() != "10.0.0.3" },
		noRoute: func(src string, dst netip.Addr) bool { return strings.HasPrefix(dst.String(), "10.9.") },
	}
	tests := []struct {
		src  string
		want string // "" for success
	}{
		{`expect_reach(red, blue)`, ""},
		{`expect_reach([red, blue], [red, blue, br])`, ""},
		{`expect_no_reach(red, green)`, ""},
		{`expect_no_reach([red, blue], green, timeout = 0.2)`, ""},
		{`expect_reach(red, green)`,
			line(2) + "13: expect_reach: red → green (10.0.0.3): 0 of 1 echo requests answered within 1s"},
		{`expect_reach(red, "10.9.0.1", count = 2)`,
			line(2) + "13: expect_reach: red → 10.9.0.1: 0 of 2 echo requests answered within 1s (sending failed: network is unreachable)"},
		{`expect_no_reach(blue, red)`,
			line(2) + "16: expect_no_reach: blue → red (10.0.0.1): 1 of 1 echo requests answered within 1s; expected no answer"},
		{`expect_reach([red, blue, green], [red, blue, green], timeout = "100ms")`,
			line(2) + "13: expect_reach: 4 of 6 pairs failed:\n" +
				"    red → green (10.0.0.3): 0 of 1 echo requests answered within 100ms\n" +
				"    blue → green (10.0.0.3): 0 of 1 echo requests answered within 100ms\n" +
				"    green → red (10.0.0.1): 0 of 1 echo requests answered within 100ms\n" +
				"    green → blue (10.0.0.2): 0 of 1 echo requests answered within 100ms"},
		{`def check():
    expect_no_reach(red, [blue, green])
check()`, line(3) + "20: expect_no_reach: 1 of 2 pairs failed:\n    red → blue (10.0.0.2): 1 of 1 echo requests answered within 1s; expected no answer\nTraceback"},
	}
	for _, tt := range tests {
		_, err := exec(t, n, "\n"+tt.src+"\n")
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %s", tt.src, interp.FormatError(err))
		case tt.want != "" && err == nil:
			t.Errorf("%s: no error, want %q", tt.src, tt.want)
		case tt.want != "" && !strings.HasPrefix(interp.FormatError(err), tt.want):
			t.Errorf("%s:\ngot:  %s\nwant: %s", tt.src, interp.FormatError(err), tt.want)
		}
	}
	for _, p := range n.probes {
		if p.Expect == topo.ExpectNothing {
			t.Errorf("probe %v of an expectation says ExpectNothing", p)
		}
	}
}

func TestPingall(t *testing.T) {
	n := &network{answers: func(src string, dst netip.Addr) bool { return src != "green" && dst.String() != "10.0.0.3" }}
	out, err := exec(t, n, `
r = pingall()
print(r)
print(bool(r), r.sent, r.received, r.pairs, r.failed)
ok = pingall(nodes = [red, blue], count = 2)
print(ok)
print(bool(ok), ok.sent, ok.received, ok.failed)
`)
	if err != nil {
		t.Fatal(interp.FormatError(err))
	}
	want := `red -> blue X
blue -> red X
green -> X X
*** Results: 66% dropped (2/6 received)
False 6 2 6 [("red", "green"), ("blue", "green"), ("green", "red"), ("green", "blue")]
red -> blue
blue -> red
*** Results: 0% dropped (4/4 received)
True 4 4 []
`
	if out != want {
		t.Errorf("printed:\n%s\nwant:\n%s", out, want)
	}
}

func TestPingDryRun(t *testing.T) {
	var script, prints bytes.Buffer
	s := interp.NewSession(interp.Options{Name: "t", Backend: &builtins.DryRun{W: &script}, Stdout: &prints})
	err := s.ExecFile(context.Background(), "lab.star", lan+`
print(ping(red, blue, count = 2, timeout = "500ms"))
expect_reach(host, green)
expect_no_reach(red, "10.9.0.1")
print(pingall(nodes = [red, blue]))
`)
	if err != nil {
		t.Fatal(interp.FormatError(err))
	}
	for _, want := range []string{
		"\nip netns exec red ping -c 2 -W 0.5 10.0.0.2\n",
		"\nping -c 1 -W 1 10.0.0.3\n",
		"\n! ip netns exec red ping -c 1 -W 1 10.9.0.1 || exit 1\n",
		"\nip netns exec red ping -c 1 -W 1 10.0.0.2\nip netns exec blue ping -c 1 -W 1 10.0.0.1\n",
	} {
		if !strings.Contains(script.String(), want) {
			t.Errorf("the dry run lacks %q:\n%s", want, script.String())
		}
	}
	if want := "True\nred -> blue\nblue -> red\n*** Results: 0% dropped (2/2 received)\n"; prints.String() != want {
		t.Errorf("printed %q, want %q", prints.String(), want)
	}
}

func TestPingBadInput(t *testing.T) {
	tests := []struct{ src, want string }{
		{`ping(red, "10.0.0")`, `ping: for parameter dst: "10.0.0" is not an IP address`},
		{`ping("red", blue)`, `ping: for parameter src: got string "red", want a netns`},
		{`ping(red, netns("empty"))`, "ping: for parameter dst: namespace empty has no address in this lab (yet)"},
		{`ping(red, veth(netns("x"), host))`, "ping: for parameter dst: got a whole veth"},
		{`ping(red, blue, count = 0)`, "count 0 is out of range; use 1 to 100"},
		{`ping(red, blue, timeout = "1 s")`, `"1 s" is not a duration`},
		{`ping(red, blue, timeout = "2m")`, "out of range"},
		{`expect_reach(red, [])`, "the list is empty"},
		{`expect_reach([red, 5], blue)`, "for parameter src: item 1: got int"},
		{`expect_reach(red, red)`, "red → red (10.0.0.1)"}, // a single pair with itself is probed
		{`expect_reach([red], [red])`, "no pair of a source and a different destination"},
		{`pingall(nodes = red)`, "got one netns, want a list"},
		{`pingall(nodes = [red, "blue"])`, "item 1 is string, want a netns"},
		{`static_neighbors(1)`, "static_neighbors: got 1 arguments, want at most 0"},
		{`bridge("b2", mac = "01:00:00:00:00:01")`, "multicast"},
		{`veth(red, blue, mac = "02:00:00:00:00:01", peer_mac = "02:00:00:00:00:01")`, "both ends"},
		{`veth(red, blue, mac = "zz")`, `"zz" is not an Ethernet address`},
	}
	n := &network{answers: func(src string, dst netip.Addr) bool { return false }}
	for _, tt := range tests {
		_, err := exec(t, n, "\n"+tt.src+"\n")
		if err == nil {
			t.Errorf("%s: no error", tt.src)
			continue
		}
		if got := interp.FormatError(err); !strings.Contains(got, tt.want) || !strings.HasPrefix(got, line(2)) {
			t.Errorf("%s:\ngot:  %s\nwant: %s...%s", tt.src, got, line(2), tt.want)
		}
	}
}

func TestPingWithoutBackend(t *testing.T) {
	s := interp.NewSession(interp.Options{Name: "t", Stdout: io.Discard})
	err := s.ExecFile(context.Background(), "lab.star", lan+"ping(red, blue)\n")
	if err == nil || !strings.Contains(err.Error(), "only records the lab") {
		t.Errorf("got %v", err)
	}
}

func TestProbeErrorFailsTheScript(t *testing.T) {
	s := interp.NewSession(interp.Options{Name: "t", Backend: &failing{}, Stdout: io.Discard})
	err := s.ExecFile(context.Background(), "lab.star", lan+"ping(red, blue)\n")
	if err == nil || !strings.Contains(interp.FormatError(err), "ping: red → blue (10.0.0.2): no such namespace") {
		t.Errorf("got %v", err)
	}
}

type failing struct{ network }

func (*failing) Probe(_ context.Context, probes []topo.Probe, _ int, _ time.Duration) []topo.ProbeResult {
	out := make([]topo.ProbeResult, len(probes))
	for i := range out {
		out[i].Err = errors.New("no such namespace")
	}
	return out
}

func TestStaticNeighbors(t *testing.T) {
	var script bytes.Buffer
	s := interp.NewSession(interp.Options{Name: "t", Backend: &builtins.DryRun{W: &script}, Stdout: io.Discard})
	err := s.ExecFile(context.Background(), "lab.star", `
br = bridge("br0", mac = "02:00:00:00:00:10")
a = netns("a")
b = netns("b")
va = veth(a, br, mac = "02:00:00:00:00:01", addr = ["10.0.0.1/24", "fd00::1/64"])
vb = veth(b, br, mac = "02:00:00:00:00:02", addr = "10.0.0.2/24")
static_neighbors()
static_neighbors()
print(va.a.mac, br.mac)
`)
	if err != nil {
		t.Fatal(interp.FormatError(err))
	}
	want := "\n# neighbours\n" +
		"ip -n a neigh replace 10.0.0.2 lladdr 02:00:00:00:00:02 dev a-br0 nud permanent\n" +
		"ip -n b neigh replace 10.0.0.1 lladdr 02:00:00:00:00:01 dev b-br0 nud permanent\n"
	if !strings.Contains(script.String(), want) {
		t.Errorf("the dry run lacks\n%s\nin:\n%s", want, script.String())
	}
	if n := len(s.Lab.Neighbors); n != 2 {
		t.Errorf("%d entries after calling static_neighbors twice, want 2", n)
	}
}
