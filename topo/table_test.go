package topo

import (
	"net/netip"
	"strings"
	"testing"
)

func tableLab(t *testing.T) *Lab {
	t.Helper()
	l := &Lab{Name: "t"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.AddNetns(&Netns{Name: "red"}))
	must(l.AddNetns(&Netns{Name: "idle"}))
	must(l.AddBridge(&Bridge{Name: "br0", NS: Host}))
	must(l.AddVeth(&Veth{A: End{NS: "red", Name: "eth0"}, B: End{NS: Host, Name: "red0", Master: "br0"}}))
	must(l.AddAddr(&Addr{NS: Host, Dev: "br0", Prefix: netip.MustParsePrefix("10.0.0.1/24")}))
	must(l.AddAddr(&Addr{NS: "red", Dev: "eth0", Prefix: netip.MustParsePrefix("10.0.0.2/24")}))
	must(l.AddAddr(&Addr{NS: "red", Dev: "eth0", Prefix: netip.MustParsePrefix("fd00::2/64")}))
	must(l.AddRoute(&Route{NS: "red", Dst: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("10.0.0.1")}))
	must(l.AddRoute(&Route{NS: "red", Dst: netip.MustParsePrefix("::/0"), Dev: "eth0", Metric: 5}))
	must(l.AddMasquerade(&Masquerade{NS: Host, Src: netip.MustParsePrefix("10.0.0.0/24"), Out: "br0"}))
	must(l.AddSysctl(&Sysctl{NS: "red", Key: "net.ipv4.ip_forward", Value: "1"}))
	return l
}

func TestWriteTable(t *testing.T) {
	l := tableLab(t)
	tests := []struct {
		name string
		sel  Selection
		want string
	}{
		{"all", Selection{}, `NAMESPACE  INTERFACE  KIND    PEER       BRIDGE  ADDRESSES
host       br0        bridge                     10.0.0.1/24
host       red0       veth    eth0@red   br0
red        eth0       veth    red0@host          10.0.0.2/24, fd00::2/64
idle       -

NAMESPACE  ROUTE
red        default via 10.0.0.1
red        ::/0 dev eth0 metric 5

NAMESPACE  NAT
host       masquerade -s 10.0.0.0/24 -o br0

NAMESPACE  SYSCTL
red        net.ipv4.ip_forward = 1
`},
		{"one namespace", OnlyNS("red"), `NAMESPACE  INTERFACE  KIND  PEER       BRIDGE  ADDRESSES
red        eth0       veth  red0@host          10.0.0.2/24, fd00::2/64

NAMESPACE  ROUTE
red        default via 10.0.0.1
red        ::/0 dev eth0 metric 5

NAMESPACE  SYSCTL
red        net.ipv4.ip_forward = 1
`},
		{"an empty namespace", OnlyNS("idle"), ""},
		{"interfaces", OnlyIfaces([2]string{Host, "red0"}), `NAMESPACE  INTERFACE  KIND  PEER      BRIDGE  ADDRESSES
host       red0       veth  eth0@red  br0
`},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := l.WriteTable(&b, tt.sel); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tt.name, b.String(), tt.want)
		}
	}
}
