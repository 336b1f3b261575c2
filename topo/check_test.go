package topo

import (
	"net"
	"net/netip"
	"strings"
	"testing"
)

func pos(line int) Pos { return Pos{File: "lab.star", Line: line, Col: 1} }

// wantErr fails unless err is non-nil and contains every one of want.
func wantErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

func TestCheckIfName(t *testing.T) {
	for _, ok := range []string{"eth0", "veth-red", "br_0", "a.b", "123456789012345"} {
		if err := CheckIfName(ok); err != nil {
			t.Errorf("CheckIfName(%q): %v", ok, err)
		}
	}
	tests := []struct {
		name string
		want []string
	}{
		{"", []string{"empty", "1 to 15 bytes"}},
		{"1234567890123456", []string{`"1234567890123456"`, "16 bytes", "at most 15"}},
		{"a/b", []string{`"a/b"`, `'/'`, "use letters"}},
		{"a b", []string{`"a b"`, `' '`}},
		{"a\tb", []string{`'\t'`}},
		{"a\nb", []string{`'\n'`}},
		{"eth0:1", []string{`"eth0:1"`, `':'`}},
		{"é", []string{`'é'`}},
		{".", []string{"reserved"}},
		{"..", []string{"reserved"}},
	}
	for _, tt := range tests {
		wantErr(t, CheckIfName(tt.name), tt.want...)
	}
}

func TestCheckNetnsName(t *testing.T) {
	if err := CheckNetnsName("a-rather-long-namespace-name-is-fine"); err != nil {
		t.Error(err)
	}
	wantErr(t, CheckNetnsName(""), "empty")
	wantErr(t, CheckNetnsName("host"), `"host"`, "predeclared host")
	wantErr(t, CheckNetnsName("../x"), `"../x"`, `'/'`)
	wantErr(t, CheckNetnsName("a b"), `' '`)
	wantErr(t, CheckNetnsName(strings.Repeat("n", 65)), "65 bytes", "at most 64")
}

func TestParseCIDR(t *testing.T) {
	for _, ok := range []string{"10.0.1.0/16", "10.0.1.2/24", "fd00::1/64", "192.168.15.5/32"} {
		if _, err := ParseCIDR(ok); err != nil {
			t.Errorf("ParseCIDR(%q): %v", ok, err)
		}
	}
	_, err := ParseCIDR("10.0.1.2")
	wantErr(t, err, `"10.0.1.2"`, "no prefix length", "10.0.1.2/24")
	for _, bad := range []string{"10.0.1/16", "10.0.0.1/33", "fd00::1/129", "x", "", "10.0.0.1/24/1"} {
		_, err := ParseCIDR(bad)
		wantErr(t, err, `"`+bad+`"`, "not a CIDR", `"10.0.1.2/24"`)
	}
	_, err = ParseCIDR("fe80::1%eth0/64")
	wantErr(t, err, "zone")
}

func TestParseDst(t *testing.T) {
	tests := map[string]string{
		"default":    "0.0.0.0/0",
		"0.0.0.0/0":  "0.0.0.0/0",
		"default6":   "::/0",
		"::/0":       "::/0",
		"10.0.0.0/8": "10.0.0.0/8",
		"10.1.2.3":   "10.1.2.3/32",
		"fd00::/64":  "fd00::/64",
		"fd00::5":    "fd00::5/128",
	}
	for in, want := range tests {
		p, err := ParseDst(in)
		if err != nil || p.String() != want {
			t.Errorf("ParseDst(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	_, err := ParseDst("10.0.0.1/8")
	wantErr(t, err, `"10.0.0.1/8"`, "host bits", `"10.0.0.0/8"`)
	_, err = ParseDst("defualt")
	wantErr(t, err, `"defualt"`, `"default"`)
}

// lab returns a lab with namespaces r and s and a veth r-s between them,
// addressed 10.0.0.1/24 and 10.0.0.2/24.
func lab(t *testing.T) *Lab {
	t.Helper()
	l := &Lab{Name: "t"}
	must(t, l.AddNetns(&Netns{Name: "r", Pos: pos(1)}))
	must(t, l.AddNetns(&Netns{Name: "s", Pos: pos(2)}))
	must(t, l.AddVeth(&Veth{A: End{NS: "r", Name: "r-s", MAC: mac("02:00:00:00:00:01")}, B: End{NS: "s", Name: "s-r", MAC: mac("02:00:00:00:00:02")}, Pos: pos(3)}))
	must(t, l.AddAddr(&Addr{NS: "r", Dev: "r-s", Prefix: netip.MustParsePrefix("10.0.0.1/24"), Pos: pos(3)}))
	must(t, l.AddAddr(&Addr{NS: "s", Dev: "s-r", Prefix: netip.MustParsePrefix("10.0.0.2/24"), Pos: pos(3)}))
	return l
}

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestAddErrors(t *testing.T) {
	l := lab(t)
	wantErr(t, l.AddNetns(&Netns{Name: "r", Pos: pos(9)}), `"r"`, "already declared at lab.star:1:1")
	wantErr(t, l.AddNetns(&Netns{Name: "a/b"}), `'/'`)

	wantErr(t, l.AddBridge(&Bridge{Name: "br0", NS: "nope"}), `"nope"`, `netns("nope")`)
	wantErr(t, l.AddBridge(&Bridge{Name: "r-s", NS: "r"}), `"r-s"`, "namespace r", "lab.star:3:1", "pick another name")
	wantErr(t, l.AddBridge(&Bridge{Name: "lo", NS: "r"}), "loopback")
	wantErr(t, l.AddBridge(&Bridge{Name: "averyveryverylongname"}), "21 bytes")
	wantErr(t, l.AddBridge(&Bridge{Name: "br0", MTU: 67}), "mtu 67", "68 to 65535")
	if err := l.AddBridge(&Bridge{Name: "r-s"}); err != nil {
		t.Errorf("the same name in another namespace: %v", err)
	}

	wantErr(t, l.AddVeth(&Veth{A: End{NS: "r", Name: "x"}, B: End{NS: "s", Name: "y", Master: "br9"}}), `"br9"`, "namespace s")
	wantErr(t, l.AddVeth(&Veth{A: End{NS: "r", Name: "x"}, B: End{NS: "r", Name: "x"}}), `"x"`, "different names")
	wantErr(t, l.AddVeth(&Veth{A: End{NS: "r", Name: "x"}, B: End{NS: "s", Name: "s-r"}}), `"s-r"`, "already exists")
	wantErr(t, l.AddVeth(&Veth{A: End{NS: "q", Name: "x"}, B: End{NS: "s", Name: "y"}}), `"q"`, "not declared")

	p := netip.MustParsePrefix
	wantErr(t, l.AddAddr(&Addr{NS: "r", Dev: "nope", Prefix: p("10.1.0.1/24")}), `"nope"`, "not part of this lab")
	if err := l.AddAddr(&Addr{NS: "s", Dev: "s-r", Prefix: p("10.0.0.1/24")}); err != nil {
		t.Errorf("an address taken in another namespace: %v", err)
	}
	wantErr(t, l.AddAddr(&Addr{NS: "r", Dev: "r-s", Prefix: p("10.0.0.1/16")}), "10.0.0.1", "already on r-s", "lab.star:3:1")
	wantErr(t, l.AddAddr(&Addr{NS: "r", Dev: "r-s", Prefix: p("224.0.0.1/4")}), "unicast")
	wantErr(t, l.AddAddr(&Addr{NS: "r", Dev: "r-s", Prefix: p("0.0.0.0/0")}), "unicast")

	wantErr(t, l.AddRoute(&Route{NS: "r", Dst: p("10.9.0.0/16")}), "via=", "dev=")
	wantErr(t, l.AddRoute(&Route{NS: "r", Dst: p("10.9.0.0/16"), Via: netip.MustParseAddr("fd00::1")}), "different IP families")
	wantErr(t, l.AddRoute(&Route{NS: "r", Dst: p("10.9.0.0/16"), Dev: "s-r"}), `"s-r"`, "namespace r")
	wantErr(t, l.AddRoute(&Route{NS: "r", Dst: p("10.9.0.0/16"), Dev: "r-s", Metric: -1}), "metric -1")
	must(t, l.AddRoute(&Route{NS: "r", Dst: p("10.9.0.0/16"), Dev: "r-s", Pos: pos(5)}))
	wantErr(t, l.AddRoute(&Route{NS: "r", Dst: p("10.9.0.0/16"), Dev: "r-s"}), "already declared at lab.star:5:1", "metric=")
	must(t, l.AddRoute(&Route{NS: "r", Dst: p("10.9.0.0/16"), Dev: "r-s", Metric: 10}))

	wantErr(t, l.AddMasquerade(&Masquerade{NS: "r", Src: p("fd00::/64")}), "not IPv4")
	wantErr(t, l.AddMasquerade(&Masquerade{NS: "r", Src: p("10.0.0.0/24"), Out: "a b"}), `' '`)
	must(t, l.AddMasquerade(&Masquerade{NS: "r", Src: p("10.0.0.0/24"), Pos: pos(6)}))
	wantErr(t, l.AddMasquerade(&Masquerade{NS: "r", Src: p("10.0.0.0/24")}), "already declared at lab.star:6:1")

	wantErr(t, l.AddSysctl(&Sysctl{NS: "r", Key: "kernel.pid_max", Value: "1"}), `"kernel.pid_max"`, `"net."`)
	wantErr(t, l.AddSysctl(&Sysctl{NS: "r", Key: "net..x", Value: "1"}), "malformed")
	wantErr(t, l.AddSysctl(&Sysctl{NS: "r", Key: "net.ipv4.conf/all.forwarding", Value: "1"}), "malformed")
	must(t, l.AddSysctl(&Sysctl{NS: "r", Key: "net.ipv4.ip_forward", Value: "1", Pos: pos(7)}))
	wantErr(t, l.AddSysctl(&Sysctl{NS: "r", Key: "net.ipv4.ip_forward", Value: "0"}), "already set at lab.star:7:1")
}

func TestCheckGateway(t *testing.T) {
	p, a := netip.MustParsePrefix, netip.MustParseAddr
	tests := []struct {
		name  string
		route Route
		want  []string // nil: no error
	}{
		{"in subnet", Route{NS: "r", Dst: p("0.0.0.0/0"), Via: a("10.0.0.2")}, nil},
		{"in subnet of dev", Route{NS: "r", Dst: p("0.0.0.0/0"), Via: a("10.0.0.2"), Dev: "r-s"}, nil},
		{"outside every subnet", Route{NS: "r", Dst: p("0.0.0.0/0"), Via: a("10.9.9.9")},
			[]string{"lab.star:8:1: route: gateway 10.9.9.9", "any subnet of namespace r", "10.0.0.0/24 on r-s", "gateway inside one of them"}},
		{"subnet of another namespace", Route{NS: "s", Dst: p("10.5.0.0/16"), Via: a("10.0.0.1"), Dev: "s-r"}, nil},
		{"no address of that family", Route{NS: "r", Dst: p("::/0"), Via: a("fd00::1")},
			[]string{"fd00::1", "no addresses of that family"}},
		{"link-local needs dev", Route{NS: "r", Dst: p("::/0"), Via: a("fe80::1")}, []string{"link-local", "dev="}},
		{"link-local with dev", Route{NS: "r", Dst: p("::/0"), Via: a("fe80::1"), Dev: "r-s"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := lab(t)
			r := tt.route
			r.Pos = pos(8)
			must(t, l.AddRoute(&r))
			err := l.Check()
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, tt.want...)
			if e, ok := err.(*Error); !ok || e.Pos != pos(8) {
				t.Errorf("error %#v is not a *Error at the route's position", err)
			}
		})
	}
}

func TestEndName(t *testing.T) {
	l := lab(t)
	if got := l.EndName("r", "r", "q"); got != "r-q" {
		t.Errorf("got %q", got)
	}
	if got := l.EndName("r", "r", "s"); got != "r-s-1" {
		t.Errorf("taken name not numbered: %q", got)
	}
	if got := l.EndName("r", "r", "q", "r-q"); got != "r-q-1" {
		t.Errorf("name in taken not numbered: %q", got)
	}
	long := l.EndName("r", "a-rather-long-namespace", "host")
	if len(long) > MaxIfName || CheckIfName(long) != nil {
		t.Errorf("derived name %q is not a valid interface name", long)
	}
	if other := l.EndName("r", "a-rather-long-namespace", "hosts"); other == long {
		t.Errorf("two long names shortened alike: %q", long)
	}
}

func TestMarkSinceTruncate(t *testing.T) {
	l := lab(t)
	m := l.Mark()
	must(t, l.AddNetns(&Netns{Name: "q"}))
	if since := l.Since(m); len(since.Netns) != 1 || since.Netns[0].Name != "q" || len(since.Veths) != 0 {
		t.Errorf("Since: %+v", since)
	}
	l.Truncate(m)
	if l.LookupNetns("q") != nil {
		t.Errorf("q still declared after Truncate")
	}
	must(t, l.AddNetns(&Netns{Name: "q"}))
}
