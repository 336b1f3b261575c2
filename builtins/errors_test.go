package builtins_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"nsscript/builtins"
	"nsscript/interp"
)

// run evaluates src as lab.star with a dry-run backend and returns the
// error as the CLI prints it.
func run(t *testing.T, src string) string {
	t.Helper()
	s := interp.NewSession(interp.Options{Backend: &builtins.DryRun{W: io.Discard}, Stdout: io.Discard})
	err := s.ExecFile(context.Background(), "lab.star", src)
	if err == nil {
		t.Fatalf("no error for:\n%s", src)
	}
	return interp.FormatError(err)
}

// Each bad input must be reported at the offending call (file:line:col),
// with the builtin's name, the offending value, and what would be valid.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // substrings of the formatted error, in order
	}{
		// Interface names.
		{"name too long", `bridge("averyveryverylongname")`,
			[]string{"lab.star:1:7: bridge: ", `"averyveryverylongname"`, "21 bytes", "at most 15"}},
		{"name with slash", `netns("r")
veth(host, netns("s"), name = "a/b")`,
			[]string{"lab.star:2:5: veth: ", `"a/b"`, `'/'`, "use letters, digits"}},
		{"name with space", `bridge("br 0")`, []string{"lab.star:1:7: bridge: ", `"br 0"`, `' '`, "use letters"}},
		{"name with tab", `bridge("br\t0")`, []string{"lab.star:1:7: bridge: ", `"br\t0"`, "use letters"}},
		{"name with colon", `veth(host, netns("r"), peer = "eth0:1")`,
			[]string{"lab.star:1:5: veth: ", `"eth0:1"`, `':'`, "use letters"}},
		{"empty name", `bridge("")`, []string{"lab.star:1:7: bridge: ", "empty", "1 to 15 bytes"}},
		{"netns name with slash", `netns("../etc")`, []string{"lab.star:1:6: netns: ", `"../etc"`, `'/'`}},
		{"host is reserved", `netns("host")`, []string{"lab.star:1:6: netns: ", `"host"`, "predeclared host"}},

		// CIDRs.
		{"cidr malformed", `veth(host, netns("r"), addr = "10.0.1/16")`,
			[]string{"lab.star:1:5: veth: ", `"addr"`, `"10.0.1/16"`, "not a CIDR", `"10.0.1.2/24"`}},
		{"cidr without length", `bridge("b", addr = "10.0.1.1")`,
			[]string{"lab.star:1:7: bridge: ", `"10.0.1.1"`, "no prefix length", "10.0.1.1/24"}},
		{"cidr list with a non-string", `bridge("b", addr = ["10.0.0.1/24", 5])`,
			[]string{"lab.star:1:7: bridge: ", "item 1 is int 5", "CIDR string"}},
		{"cidr of wrong type", `bridge("b", addr = 10)`,
			[]string{"lab.star:1:7: bridge: ", "got int", "CIDR string such as"}},
		{"cidr prefix too long", `bridge("b", addr = "10.0.0.1/33")`,
			[]string{"lab.star:1:7: bridge: ", `"10.0.0.1/33"`, "not a CIDR"}},
		{"loopback address", `bridge("b", addr = "127.0.0.2/8")`,
			[]string{"lab.star:1:7: bridge: ", "127.0.0.2/8", "unicast address"}},
		{"route dst host bits", `route(host, "10.0.0.1/24", dev = "x")`,
			[]string{"lab.star:1:6: route: ", `"10.0.0.1/24"`, "host bits", `did you mean "10.0.0.0/24"`}},
		{"route dst garbage", `route(host, "defualt", dev = "x")`,
			[]string{"lab.star:1:6: route: ", `"defualt"`, `"default"`}},
		{"gateway with prefix", `route(host, "10.0.0.0/24", via = "10.0.0.1/24")`,
			[]string{"lab.star:1:6: route: ", `"10.0.0.1/24"`, `address alone, "10.0.0.1"`}},
		{"masquerade host bits", `masquerade("10.0.0.1/24")`,
			[]string{"lab.star:1:11: masquerade: ", `"10.0.0.1/24"`, `did you mean "10.0.0.0/24"`}},
		{"masquerade ipv6", `masquerade("fd00::/64")`,
			[]string{"lab.star:1:11: masquerade: ", "fd00::/64", "IPv4"}},

		// Gateways outside every connected subnet, found when the lab is checked.
		{"gateway off subnet", `r = netns("r")
veth(r, host, addr = "10.0.0.1/24")
route(r, "default", via = "10.9.9.9")`,
			[]string{"lab.star:3:6: route: ", "10.9.9.9", "namespace r", "10.0.0.0/24 on r-host", "gateway inside one of them"}},
		{"gateway with no addresses", `r = netns("r")
route(r, "10.1.0.0/16", via = "10.0.0.1")`,
			[]string{"lab.star:2:6: route: ", "10.0.0.1", "no addresses of that family"}},
		{"gateway off dev subnet", `r = netns("r")
v = veth(r, host, addr = "10.0.0.1/24")
w = veth(r, host, addr = "10.1.0.1/24")
route(r, "default", via = "10.0.0.254", dev = w.a)`,
			[]string{"lab.star:4:6: route: ", "10.0.0.254", "a subnet of r-host-1"}},
		{"gateway checked at exec, reported at the route", `r = netns("r")
route(r, "default", via = "10.9.9.9")
exec(r, "true")`,
			[]string{"lab.star:2:6: route: ", "10.9.9.9", "Traceback", "lab.star:3:5: in <toplevel>"}},
		{"gateway family", `r = netns("r")
route(r, "10.0.0.0/8", via = "fd00::1")`,
			[]string{"lab.star:2:6: route: ", "fd00::1", "10.0.0.0/8", "different IP families"}},

		// The same name twice.
		{"netns twice", `netns("r")
netns("r")`,
			[]string{"lab.star:2:6: netns: ", `"r"`, "already declared at lab.star:1:6"}},
		{"iface twice", `r = netns("r")
veth(r, host, name = "e0")
bridge("e0", ns = r)`,
			[]string{"lab.star:3:7: bridge: ", `"e0"`, "namespace r", "declared at lab.star:2:5", "pick another name"}},
		{"address twice", `r = netns("r")
veth(r, host, addr = "10.0.0.1/24")
veth(r, host, addr = "10.0.0.1/24")`,
			[]string{"lab.star:3:5: veth: ", "10.0.0.1", "declared at lab.star:2:5"}},
		{"route twice", `b = bridge("b", addr = "10.0.0.1/24")
route(host, "10.1.0.0/16", via = "10.0.0.2")
route(host, "10.1.0.0/16", dev = b)`,
			[]string{"lab.star:3:6: route: ", "10.1.0.0/16", "already declared at lab.star:2:6", "metric="}},
		{"dev unknown", `route(host, "10.0.0.0/8", dev = "lo0")`,
			[]string{"lab.star:1:6: route: ", `"lo0"`, "not an interface"}},
		{"sysctl twice", `sysctl(host, "net.ipv4.ip_forward", 1)
sysctl(host, "net.ipv4.ip_forward", 0)`,
			[]string{"lab.star:2:7: sysctl: ", "net.ipv4.ip_forward", "already set at lab.star:1:7"}},

		// Veth ends that are not endpoints.
		{"veth end a string", `veth(host, "red")`,
			[]string{"lab.star:1:5: veth: ", "parameter b", `got string "red"`, "netns, host or a bridge", `netns("red")`}},
		{"veth end an int", `veth(42, host)`,
			[]string{"lab.star:1:5: veth: ", "parameter a", "got int", "netns, host or a bridge"}},
		{"veth end a veth", `v = veth(host, netns("r"))
veth(v, host)`,
			[]string{"lab.star:2:5: veth: ", "got veth", "netns, host or a bridge"}},
		{"veth end an iface", `v = veth(host, netns("r"))
veth(v.a, host)`,
			[]string{"lab.star:2:5: veth: ", "got iface", "netns, host or a bridge"}},
		{"addr on a whole veth", `v = veth(host, netns("r"))
addr(v, "10.0.0.1/24")`,
			[]string{"lab.star:2:5: addr: ", "whole veth", ".a or .b"}},
		{"addr on a netns", `addr(host, "10.0.0.1/24")`,
			[]string{"lab.star:1:5: addr: ", "got netns", "a bridge or a veth end"}},
		{"addr with no address", `addr(bridge("b"), [])`,
			[]string{"lab.star:1:5: addr: ", "no address given"}},

		// Wrong types.
		{"netns name int", `netns(5)`, []string{"lab.star:1:6: netns: ", "parameter name", "got int 5, want string"}},
		{"namespace as a string", `bridge("b", ns = "red")`,
			[]string{"lab.star:1:7: bridge: ", `"ns"`, `got string "red"`, `netns("red")`}},
		{"namespace as a bridge", `route(bridge("b"), "default", dev = "b")`,
			[]string{"lab.star:1:6: route: ", "got bridge", "want a netns"}},
		{"mtu a string", `bridge("b", mtu = "1500")`, []string{"lab.star:1:7: bridge: ", `"mtu"`, "got string \"1500\", want int"}},
		{"mtu out of range", `bridge("b", mtu = 20)`, []string{"lab.star:1:7: bridge: ", "mtu 20", "68 to 65535"}},
		{"mtu zero", `veth(host, netns("r"), mtu = 0)`, []string{"lab.star:1:5: veth: ", "mtu 0", "None for the kernel's default"}},
		{"metric negative", `route(host, "10.0.0.0/8", dev = bridge("b"), metric = -1)`,
			[]string{"lab.star:1:6: route: ", "metric -1", "0 or more"}},
		{"dev in another namespace", `r = netns("r")
v = veth(r, host)
route(host, "10.0.0.0/8", dev = v.a)`,
			[]string{"lab.star:3:6: route: ", "r-host", "namespace r, not host"}},
		{"route without via or dev", `route(host, "10.0.0.0/8")`,
			[]string{"lab.star:1:6: route: ", "10.0.0.0/8", "via=", "dev="}},
		{"sysctl key outside net", `sysctl(host, "kernel.hostname", "x")`,
			[]string{"lab.star:1:7: sysctl: ", `"kernel.hostname"`, `under "net."`}},
		{"sysctl float", `sysctl(host, "net.ipv4.ip_forward", 1.0)`,
			[]string{"lab.star:1:7: sysctl: ", "got float", "string, int or bool"}},
		{"exec cmd int", `exec(host, 5)`, []string{"lab.star:1:5: exec: ", "got int", "string or a list of strings"}},
		{"exec argv item", `exec(host, ["ip", 5])`, []string{"lab.star:1:5: exec: ", "item 1", "int 5", "want a string"}},
		{"exec empty", `exec(host, [])`, []string{"lab.star:1:5: exec: ", "empty"}},
		{"sysctl key malformed", `sysctl(host, "net..x", 1)`,
			[]string{"lab.star:1:7: sysctl: ", `"net..x"`, "malformed"}},

		// Unknown keyword arguments.
		{"unknown keyword", `netns("r", colour = "red")`,
			[]string{"lab.star:1:6: netns: ", `unexpected keyword argument "colour"`, "netns takes name"}},
		{"misspelt keyword", `veth(host, netns("r"), peer_adr = "10.0.0.1/24")`,
			[]string{"lab.star:1:5: veth: ", `"peer_adr"`, "did you mean peer_addr?", "veth takes a, b, name, peer, addr, peer_addr, mtu"}},
		{"too many arguments", `netns("a", "b")`, []string{"lab.star:1:6: netns: ", "got 2 arguments, want at most 1"}},
		{"missing argument", `route(host)`, []string{"lab.star:1:6: route: ", "missing argument for dst"}},

		// Errors inside functions carry a backtrace.
		{"inside a function", `def link(n):
    return veth(host, n, mtu = 0)
def lab():
    link(netns("r"))
lab()`,
			[]string{"lab.star:2:16: veth: mtu 0", "Traceback (most recent call last):",
				"lab.star:5:4: in <toplevel>", "lab.star:4:9: in lab", "lab.star:2:16: in link"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, tt.src)
			rest := got
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error lacks %q (in order):\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// A call that fails declares nothing, so the REPL can go on.
func TestFailedCallDeclaresNothing(t *testing.T) {
	s := interp.NewSession(interp.Options{Backend: &builtins.DryRun{W: io.Discard}, Stdout: io.Discard})
	err := s.ExecFile(context.Background(), "lab.star", `
r = netns("r")
veth(r, host, addr = "10.0.0.1/24")
veth(r, host, addr = ["10.0.0.2/24", "10.0.0.1/24"])  # second address taken
`)
	if err == nil {
		t.Fatal("no error")
	}
	if n := len(s.Lab.Veths); n != 1 {
		t.Errorf("lab has %d veths after a failed veth(), want 1", n)
	}
	if n := len(s.Lab.Addrs); n != 1 {
		t.Errorf("lab has %d addresses after a failed veth(), want 1", n)
	}
	if s.Lab.HasIface("r", "r-host-1") {
		t.Errorf("the failed veth's end r-host-1 is still declared")
	}
}
