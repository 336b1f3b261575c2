package topo

import (
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestShellQuote(t *testing.T) {
	tests := map[string]string{
		"eth0":             "eth0",
		"10.0.0.1/24":      "10.0.0.1/24",
		"nsscript:lab":     "nsscript:lab",
		"a=b":              "a=b",
		"":                 "''",
		"a b":              "'a b'",
		"it's":             `'it'\''s'`,
		"$HOME":            "'$HOME'",
		"a;b":              "'a;b'",
		"~root":            "'~root'",
		"#x":               "'#x'",
		"*":                "'*'",
		"a\nb":             "'a\nb'",
		"net.ipv4.x=0 1 2": "'net.ipv4.x=0 1 2'",
	}
	for in, want := range tests {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// Every quoted word must come back unchanged from a real sh.
func TestShellQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	words := []string{"plain", "", "a b", "it's", `"dq"`, "$HOME", "`id`", "a\\b", "tab\there", "new\nline", "*", "~", "#", "é", "a=b"}
	line := ShellLine(append([]string{"printf", "%s\\0"}, words...)...)
	out, err := exec.Command(sh, "-c", line).Output()
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if strings.Join(got, "|") != strings.Join(words, "|") {
		t.Errorf("sh read back %q, want %q", got, words)
	}
}

func TestShellLineFirstWordWithEquals(t *testing.T) {
	if got := ShellLine("A=1", "x"); got != "'A=1' x" {
		t.Errorf("got %s: a first word with '=' must not read as an assignment", got)
	}
}

func TestExecLine(t *testing.T) {
	tests := []struct {
		ns   string
		argv []string
		want string
	}{
		{"red", []string{"/bin/sh", "-c", "ping -c 1 10.0.2.0"}, "ip netns exec red ping -c 1 10.0.2.0"},
		{Host, []string{"/bin/sh", "-c", "ip -br addr"}, "ip -br addr"},
		{"red", []string{"/bin/sh", "-c", "ip addr | grep inet"}, "ip netns exec red /bin/sh -c 'ip addr | grep inet'"},
		{"red", []string{"/bin/sh", "-c", "X=1 env"}, "ip netns exec red /bin/sh -c 'X=1 env'"},
		{"red", []string{"ip", "route", "get", "10.0.0.1"}, "ip netns exec red ip route get 10.0.0.1"},
		{Host, []string{"echo", "a b"}, "echo 'a b'"},
	}
	for _, tt := range tests {
		if got := ExecLine(tt.ns, tt.argv); got != tt.want {
			t.Errorf("ExecLine(%q, %q) = %s, want %s", tt.ns, tt.argv, got, tt.want)
		}
	}
}

func TestShellCommandsOrder(t *testing.T) {
	l := lab(t)
	p := netip.MustParsePrefix
	must(t, l.AddBridge(&Bridge{Name: "br0", NS: "r", MTU: 9000, MAC: mac("02:00:00:00:00:03")}))
	must(t, l.AddVeth(&Veth{A: End{NS: Host, Name: "h0", MAC: mac("02:00:00:00:00:04")}, B: End{NS: "r", Name: "p0", Master: "br0", MAC: mac("02:00:00:00:00:05")}, MTU: 9000}))
	must(t, l.AddAddr(&Addr{NS: "r", Dev: "br0", Prefix: p("fd00::1/64")}))
	must(t, l.AddNeighbor(&Neighbor{NS: "r", Dev: "r-s", Addr: netip.MustParseAddr("10.0.0.2"), MAC: mac("02:00:00:00:00:02")}))
	must(t, l.AddRoute(&Route{NS: "s", Dst: p("0.0.0.0/0"), Via: netip.MustParseAddr("10.0.0.1")}))
	must(t, l.AddRoute(&Route{NS: "r", Dst: p("::/0"), Via: netip.MustParseAddr("fd00::2"), Metric: 5}))
	must(t, l.AddSysctl(&Sysctl{NS: "r", Key: "net.ipv6.conf.all.forwarding", Value: "1"}))
	must(t, l.AddMasquerade(&Masquerade{NS: Host, Src: p("10.0.0.0/24"), Out: "h0"}))

	var lines []string
	for _, c := range l.ShellCommands() {
		lines = append(lines, ShellLine(c...))
	}
	want := `ip netns add r
ip -n r link set lo up
ip netns add s
ip -n s link set lo up
ip -n r link add br0 address 02:00:00:00:00:03 mtu 9000 type bridge
ip link add r-s address 02:00:00:00:00:01 numtxqueues 1 numrxqueues 1 netns r type veth peer name s-r address 02:00:00:00:00:02 numtxqueues 1 numrxqueues 1 netns s
ip link add h0 address 02:00:00:00:00:04 mtu 9000 numtxqueues 1 numrxqueues 1 group 1876602491 type veth peer name p0 address 02:00:00:00:00:05 mtu 9000 numtxqueues 1 numrxqueues 1 netns r
ip -n r link set p0 master br0
ip netns exec r sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n r addr add 10.0.0.1/24 brd + dev r-s
ip -n s addr add 10.0.0.2/24 brd + dev s-r
ip -n r addr add fd00::1/64 dev br0 nodad
ip -n r link set r-s up
ip -n s link set s-r up
ip link set h0 up
ip -n r link set p0 up
ip -n r link set br0 up
ip -n r neigh replace 10.0.0.2 lladdr 02:00:00:00:00:02 dev r-s nud permanent
ip -n s route add default via 10.0.0.1
ip -6 -n r route add default via fd00::2 metric 5
sysctl -qw net.ipv4.ip_forward=1
iptables -t nat -A POSTROUTING -s 10.0.0.0/24 -o h0 -m comment --comment nsscript:t -j MASQUERADE`
	if got := strings.Join(lines, "\n"); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	var b strings.Builder
	must(t, l.WriteShell(&b))
	if !strings.HasPrefix(b.String(), "\n# namespaces\nip netns add r\n") || !strings.Contains(b.String(), "\n# masquerade\n") {
		t.Errorf("WriteShell sections:\n%s", b.String())
	}
}

func TestShellSinceContinues(t *testing.T) {
	l := lab(t)
	m := l.Mark()
	must(t, l.AddRoute(&Route{NS: "s", Dst: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("10.0.0.1")}))
	var b strings.Builder
	must(t, l.Since(m).WriteShell(&b))
	if got, want := b.String(), "\n# routes\nip -n s route add default via 10.0.0.1\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestShellHeader(t *testing.T) {
	h := ShellHeader("my lab")
	if !strings.HasPrefix(h, "#!/bin/sh\n") || !strings.Contains(h, "my lab") || !strings.HasSuffix(h, "set -e\n") {
		t.Errorf("header:\n%s", h)
	}
}

func TestShellHeaderNameCannotEscapeComment(t *testing.T) {
	h := ShellHeader("x\nrm -rf /")
	for _, l := range strings.Split(h, "\n") {
		if strings.HasPrefix(l, "rm") {
			t.Errorf("lab name escaped the comment:\n%s", h)
		}
	}
}

func TestPingLine(t *testing.T) {
	a := netip.MustParseAddr
	tests := []struct {
		p       Probe
		count   int
		timeout time.Duration
		want    string
	}{
		{Probe{Src: "red", Dst: a("10.0.0.2")}, 1, time.Second, "ip netns exec red ping -c 1 -W 1 10.0.0.2"},
		{Probe{Src: Host, Dst: a("fd00::2"), Expect: ExpectReach}, 3, 250 * time.Millisecond, "ping -c 3 -W 0.25 fd00::2"},
		{Probe{Src: "red", Dst: a("fe80::1%eth0"), Expect: ExpectNoReach}, 1, 2 * time.Second, "! ip netns exec red ping -c 1 -W 2 fe80::1%eth0 || exit 1"},
	}
	for _, tt := range tests {
		if got := PingLine(tt.p, tt.count, tt.timeout); got != tt.want {
			t.Errorf("PingLine(%+v) = %s, want %s", tt.p, got, tt.want)
		}
	}
}
