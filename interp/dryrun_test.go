package interp_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"nsscript/builtins"
	"nsscript/interp"
)

var update = flag.Bool("update", os.Getenv("UPDATE_GOLDEN") != "", "rewrite the golden files of the dry-run tests")

// dryRun runs src as file name with a DryRun backend and returns the script
// it prints and what the script printed.
func dryRun(t *testing.T, name string, src any, vars map[string]string) (script, stdout string, err error) {
	t.Helper()
	var out, prints bytes.Buffer
	s := interp.NewSession(interp.Options{
		Backend: &builtins.DryRun{W: &out},
		Stdout:  &prints,
		Vars:    vars,
	})
	err = s.ExecFile(context.Background(), name, src)
	return out.String(), prints.String(), err
}

// commands keeps the command lines of a script: no header, comments or
// blank lines, and no derived MAC addresses (hashes, checked by the golden
// files and TestDryRunMACs); explicit ones, which the tests take from
// 02:00:00:00:00:xx, stay.
func commands(script string) string {
	var keep []string
	for _, l := range strings.Split(script, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") && l != "set -e" {
			keep = append(keep, dropDerivedMACs(l))
		}
	}
	return strings.Join(keep, "\n")
}

var macArg = regexp.MustCompile(` address [0-9a-f:]{17}`)

func dropDerivedMACs(line string) string {
	return macArg.ReplaceAllStringFunc(line, func(m string) string {
		if strings.HasPrefix(m, " address 02:00:00:00:00:") {
			return m
		}
		return ""
	})
}

func TestDryRunTable(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"netns", `netns("red")`, `
ip netns add red
ip -n red link set lo up`},
		{"derived names", `veth(netns("red"), netns("blue"))`, `
ip netns add red
ip -n red link set lo up
ip netns add blue
ip -n blue link set lo up
ip link add red-blue numtxqueues 1 numrxqueues 1 netns red type veth peer name blue-red numtxqueues 1 numrxqueues 1 netns blue
ip -n red link set red-blue up
ip -n blue link set blue-red up`},
		{"host end", `veth(host, netns("r"), addr="10.0.0.1/24")`, `
ip netns add r
ip -n r link set lo up
ip link add host-r numtxqueues 1 numrxqueues 1 group 1876602491 type veth peer name r-host numtxqueues 1 numrxqueues 1 netns r
ip addr add 10.0.0.1/24 brd + dev host-r
ip link set host-r up
ip -n r link set r-host up`},
		{"bridge end", `
red = netns("red")
br = bridge("br0")
veth(red, br)`, `
ip netns add red
ip -n red link set lo up
ip link add br0 group 1876602491 type bridge
ip link add red-br0 numtxqueues 1 numrxqueues 1 netns red type veth peer name br0-red numtxqueues 1 numrxqueues 1 group 1876602491
ip link set br0-red master br0
ip -n red link set red-br0 up
ip link set br0-red up
ip link set br0 up`},
		{"taken name numbered", `
r = netns("r")
veth(r, host)
veth(r, host)`, `
ip netns add r
ip -n r link set lo up
ip link add r-host numtxqueues 1 numrxqueues 1 netns r type veth peer name host-r numtxqueues 1 numrxqueues 1 group 1876602491
ip link add r-host-1 numtxqueues 1 numrxqueues 1 netns r type veth peer name host-r-1 numtxqueues 1 numrxqueues 1 group 1876602491
ip -n r link set r-host up
ip link set host-r up
ip -n r link set r-host-1 up
ip link set host-r-1 up`},
		{"ipv6 nodad and default6 from via", `
r = netns("r")
v = veth(r, host, addr="fd00::2/64", peer_addr="fd00::1/64")
route(r, "default", via="fd00::1")
route(r, "fd01::/64", dev=v.a, metric=7)`, `
ip netns add r
ip -n r link set lo up
ip link add r-host numtxqueues 1 numrxqueues 1 netns r type veth peer name host-r numtxqueues 1 numrxqueues 1 group 1876602491
ip -n r addr add fd00::2/64 dev r-host nodad
ip addr add fd00::1/64 dev host-r nodad
ip -n r link set r-host up
ip link set host-r up
ip -6 -n r route add default via fd00::1
ip -6 -n r route add fd01::/64 dev r-host metric 7`},
		{"sysctl values quoted", `
r = netns("r")
sysctl(r, "net.ipv4.ip_forward", True)
sysctl(host, "net.ipv4.conf.all.rp_filter", 0)
sysctl(r, "net.ipv4.ping_group_range", "0 2147483647")`, `
ip netns add r
ip -n r link set lo up
ip netns exec r sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv4.conf.all.rp_filter=0
ip netns exec r sysctl -qw 'net.ipv4.ping_group_range=0 2147483647'`},
		{"masquerade in a namespace, once forwarding", `
r = netns("r")
masquerade("10.1.0.0/16", ns=r)
masquerade("10.2.0.0/16", ns=r, out="eth0")`, `
ip netns add r
ip -n r link set lo up
ip netns exec r sysctl -qw net.ipv4.ip_forward=1
ip netns exec r iptables -t nat -A POSTROUTING -s 10.1.0.0/16 -m comment --comment nsscript:t -j MASQUERADE
ip netns exec r iptables -t nat -A POSTROUTING -s 10.2.0.0/16 -o eth0 -m comment --comment nsscript:t -j MASQUERADE`},
		{"exec syncs first", `
r = netns("r")
exec(r, "ip -br link")
netns("s")
exec(host, ["echo", "a b"])`, `
ip netns add r
ip -n r link set lo up
ip netns exec r ip -br link
ip netns add s
ip -n s link set lo up
echo 'a b'`},
		{"exec shell syntax kept in sh -c", `exec(netns("r"), "ping -c1 x && echo 'ok'")`, `
ip netns add r
ip -n r link set lo up
ip netns exec r /bin/sh -c 'ping -c1 x && echo '\''ok'\'''`},
		{"loops and reassignment at top level", `
k = 0
while k < 2:
    k += 1
    netns("n%d" % k)
if k == 2:
    netns("done")`, `
ip netns add n1
ip -n n1 link set lo up
ip netns add n2
ip -n n2 link set lo up
ip netns add done
ip -n done link set lo up`},
		{"vars", `netns(vars.get("ns", "none"))`, `
ip netns add fromvar
ip -n fromvar link set lo up`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script, _, err := dryRun(t, "t.star", tt.src, map[string]string{"ns": "fromvar"})
			if err != nil {
				t.Fatalf("unexpected error:\n%s", interp.FormatError(err))
			}
			if got, want := commands(script), strings.TrimPrefix(tt.want, "\n"); got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestDryRunHeader(t *testing.T) {
	script, _, err := dryRun(t, "dir/my-lab.star", ``, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(script, "#!/bin/sh\n") || !strings.Contains(script, "\nset -e\n") || !strings.Contains(script, "my-lab") {
		t.Errorf("an empty lab should print the header naming the lab, got:\n%s", script)
	}
}

func TestPrintGoesToStdout(t *testing.T) {
	_, stdout, err := dryRun(t, "t.star", `
r = netns("r")
v = veth(r, host, addr = ["10.0.0.1/24"])
print(r, host, r.name, host.name, v, v.a, v.a.peer == v.b, v.a.addrs, v.b.addrs, v.a.bridge)
print(exec(r, "true"))`, nil)
	if err != nil {
		t.Fatal(interp.FormatError(err))
	}
	want := `<netns r> <netns host> r host <veth r-host in r, host-r in host> <iface r-host in r> True ["10.0.0.1/24"] [] None
<exec_result code=0>
`
	if stdout != want {
		t.Errorf("got:\n%s\nwant:\n%s", stdout, want)
	}
}

// TestDryRunGolden compares the dry run of testdata/dryrun/*.star and of the
// example labs in scripts/ with golden files. Refresh them with
// `go test ./interp -update` or UPDATE_GOLDEN=1.
func TestDryRunGolden(t *testing.T) {
	type golden struct{ star, sh string }
	var files []golden
	own, _ := filepath.Glob("../testdata/dryrun/*.star")
	for _, f := range own {
		files = append(files, golden{f, strings.TrimSuffix(f, ".star") + ".sh"})
	}
	examples, _ := filepath.Glob("../scripts/*.star")
	for _, f := range examples {
		files = append(files, golden{f, filepath.Join("../testdata/dryrun/scripts", strings.TrimSuffix(filepath.Base(f), ".star")+".sh")})
	}
	if len(own) == 0 || len(examples) == 0 {
		t.Fatalf("no scripts found: %q %q", own, examples)
	}
	for _, g := range files {
		t.Run(strings.TrimPrefix(g.star, "../"), func(t *testing.T) {
			script, stdout, err := dryRun(t, g.star, nil, nil)
			if err != nil {
				t.Fatalf("%s", interp.FormatError(err))
			}
			check(t, g.sh, script)
			out := strings.TrimSuffix(g.sh, ".sh") + ".stdout"
			if stdout != "" || fileExists(out) {
				check(t, out, stdout)
			}
		})
	}
}

func check(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run `go test ./interp -update` to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run `go test ./interp -update` to accept it):\n--- got\n%s\n--- want\n%s", file, got, want)
	}
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}
