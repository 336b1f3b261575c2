package topo

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func TestDeriveMAC(t *testing.T) {
	a := DeriveMAC("lab", "red", "eth0", 0)
	if a.String() != DeriveMAC("lab", "red", "eth0", 0).String() {
		t.Errorf("DeriveMAC is not deterministic")
	}
	if a[0]&0x03 != 0x02 {
		t.Errorf("%s is not a locally administered unicast address", a)
	}
	seen := map[string]string{}
	for _, c := range [][3]string{{"lab", "red", "eth0"}, {"lab2", "red", "eth0"}, {"lab", "blue", "eth0"}, {"lab", "red", "eth1"}, {"lab", "", "red"}, {"lab", "re", "deth0"}} {
		m := DeriveMAC(c[0], c[1], c[2], 0).String()
		if other, ok := seen[m]; ok {
			t.Errorf("%v and %s derive the same MAC %s", c, other, m)
		}
		seen[m] = fmt.Sprint(c)
	}
	if DeriveMAC("lab", "red", "eth0", 1).String() == a.String() {
		t.Errorf("another attempt derives the same MAC")
	}
}

func TestMACs(t *testing.T) {
	l := lab(t)
	must(t, l.AddNetns(&Netns{Name: "u"}))
	must(t, l.AddVeth(&Veth{A: End{NS: "u", Name: "u0"}, B: End{NS: Host, Name: "h0"}}))
	v := l.Veths[1]
	if v.A.MAC.String() != DeriveMAC("t", "u", "u0", 0).String() || v.B.MAC.String() != DeriveMAC("t", Host, "h0", 0).String() {
		t.Errorf("derived MACs %s %s", v.A.MAC, v.B.MAC)
	}
	wantErr(t, l.AddBridge(&Bridge{Name: "b", MAC: mac("02:00:00:00:00:01")}), "02:00:00:00:00:01", "r-s", "namespace r", "lab.star:3:1")
	wantErr(t, l.AddBridge(&Bridge{Name: "b", MAC: mac("03:00:00:00:00:01")}), "multicast", "02:00:00:00:00:01")
	wantErr(t, l.AddBridge(&Bridge{Name: "b", MAC: mac("00:00:00:00:00:00")}), "zeros")
	wantErr(t, l.AddVeth(&Veth{A: End{NS: "u", Name: "x", MAC: mac("02:00:00:00:00:09")}, B: End{NS: "u", Name: "y", MAC: mac("02:00:00:00:00:09")}}), "both ends")
	// A derived MAC never takes one given explicitly.
	taken := DeriveMAC("t", "u", "x", 0)
	must(t, l.AddVeth(&Veth{A: End{NS: "u", Name: "x"}, B: End{NS: "u", Name: "y", MAC: taken}}))
	if x := l.Veths[2].A.MAC; x.String() == taken.String() || x.String() != DeriveMAC("t", "u", "x", 1).String() {
		t.Errorf("end x got %s; %s is y's", x, taken)
	}
	if _, err := ParseMAC("02:00:00:00:00:01:02:03"); err == nil {
		t.Errorf("ParseMAC accepted eight bytes")
	}
}

func TestAddNeighborErrors(t *testing.T) {
	l := lab(t)
	a := netip.MustParseAddr
	wantErr(t, l.AddNeighbor(&Neighbor{NS: "r", Dev: "nope", Addr: a("10.0.0.2"), MAC: mac("02:00:00:00:00:02")}), "not part of this lab")
	wantErr(t, l.AddNeighbor(&Neighbor{NS: "r", Dev: "r-s", Addr: a("224.0.0.1"), MAC: mac("02:00:00:00:00:02")}), "unicast")
	wantErr(t, l.AddNeighbor(&Neighbor{NS: "r", Dev: "r-s", Addr: a("10.0.0.2"), MAC: mac("01:00:00:00:00:02")}), "multicast")
	must(t, l.AddNeighbor(&Neighbor{NS: "r", Dev: "r-s", Addr: a("10.0.0.2"), MAC: mac("02:00:00:00:00:02"), Pos: pos(8)}))
	wantErr(t, l.AddNeighbor(&Neighbor{NS: "r", Dev: "r-s", Addr: a("10.0.0.2"), MAC: mac("02:00:00:00:00:02")}), "already declared at lab.star:8:1")
	m := l.Mark()
	l.Truncate(Mark{m[0], m[1], m[2], m[3], m[4], m[5], m[6], 0})
	must(t, l.AddNeighbor(&Neighbor{NS: "r", Dev: "r-s", Addr: a("10.0.0.2"), MAC: mac("02:00:00:00:00:02")}))
}

// segmentLab is red and blue on bridge br0 in the host (which has an
// address), green joined to br0 through a second bridge br1 in namespace
// sw, and a point-to-point veth between red and blue. sw's own address on
// br1 is IPv6 only.
func segmentLab(t *testing.T) *Lab {
	l := &Lab{Name: "seg"}
	p := netip.MustParsePrefix
	for _, n := range []string{"red", "blue", "green", "sw"} {
		must(t, l.AddNetns(&Netns{Name: n}))
	}
	must(t, l.AddBridge(&Bridge{Name: "br0", MAC: mac("02:00:00:00:00:b0")}))
	must(t, l.AddBridge(&Bridge{Name: "br1", NS: "sw", MAC: mac("02:00:00:00:00:b1")}))
	must(t, l.AddAddr(&Addr{NS: Host, Dev: "br0", Prefix: p("10.0.0.254/24")}))
	must(t, l.AddAddr(&Addr{NS: "sw", Dev: "br1", Prefix: p("fd00::99/64")}))
	for i, n := range []string{"red", "blue"} {
		must(t, l.AddVeth(&Veth{A: End{NS: n, Name: "eth0", MAC: mac(fmt.Sprintf("02:00:00:00:00:%02x", i+1))}, B: End{NS: Host, Name: "p-" + n, Master: "br0"}}))
		must(t, l.AddAddr(&Addr{NS: n, Dev: "eth0", Prefix: p(fmt.Sprintf("10.0.0.%d/24", i+1))}))
		must(t, l.AddAddr(&Addr{NS: n, Dev: "eth0", Prefix: p(fmt.Sprintf("fd00::%d/64", i+1))}))
	}
	must(t, l.AddVeth(&Veth{A: End{NS: Host, Name: "trunk", Master: "br0"}, B: End{NS: "sw", Name: "trunk", Master: "br1"}}))
	must(t, l.AddVeth(&Veth{A: End{NS: "green", Name: "eth0", MAC: mac("02:00:00:00:00:03")}, B: End{NS: "sw", Name: "p-green", Master: "br1"}}))
	must(t, l.AddAddr(&Addr{NS: "green", Dev: "eth0", Prefix: p("10.0.0.3/24")}))
	must(t, l.AddVeth(&Veth{A: End{NS: "red", Name: "p2p", MAC: mac("02:00:00:00:00:11")}, B: End{NS: "blue", Name: "p2p", MAC: mac("02:00:00:00:00:12")}}))
	must(t, l.AddAddr(&Addr{NS: "red", Dev: "p2p", Prefix: p("10.9.0.1/31")}))
	must(t, l.AddAddr(&Addr{NS: "blue", Dev: "p2p", Prefix: p("10.9.0.0/31")}))
	return l
}

func TestSegmentNeighbors(t *testing.T) {
	l := segmentLab(t)
	var got []string
	for _, n := range l.SegmentNeighbors(pos(20)) {
		got = append(got, fmt.Sprintf("%s %s %s %s", NSName(n.NS), n.Dev, n.Addr, n.MAC))
		if n.Pos != pos(20) {
			t.Errorf("entry at %s, want lab.star:20:1", n.Pos)
		}
	}
	// The host's br0 has IPv4 only: no entries for IPv6 addresses. sw's br1
	// has IPv6 only. green has no IPv6 address, so none for it either.
	want := `host br0 10.0.0.1 02:00:00:00:00:01
host br0 10.0.0.2 02:00:00:00:00:02
host br0 10.0.0.3 02:00:00:00:00:03
sw br1 fd00::1 02:00:00:00:00:01
sw br1 fd00::2 02:00:00:00:00:02
red eth0 10.0.0.254 02:00:00:00:00:b0
red eth0 fd00::99 02:00:00:00:00:b1
red eth0 10.0.0.2 02:00:00:00:00:02
red eth0 fd00::2 02:00:00:00:00:02
red eth0 10.0.0.3 02:00:00:00:00:03
blue eth0 10.0.0.254 02:00:00:00:00:b0
blue eth0 fd00::99 02:00:00:00:00:b1
blue eth0 10.0.0.1 02:00:00:00:00:01
blue eth0 fd00::1 02:00:00:00:00:01
blue eth0 10.0.0.3 02:00:00:00:00:03
green eth0 10.0.0.254 02:00:00:00:00:b0
green eth0 10.0.0.1 02:00:00:00:00:01
green eth0 10.0.0.2 02:00:00:00:00:02
red p2p 10.9.0.0 02:00:00:00:00:12
blue p2p 10.9.0.1 02:00:00:00:00:11`
	if g := strings.Join(got, "\n"); g != want {
		t.Errorf("got:\n%s\nwant:\n%s", g, want)
	}

	// Entries the lab has already are not returned again.
	for _, n := range l.SegmentNeighbors(pos(20)) {
		must(t, l.AddNeighbor(n))
	}
	if more := l.SegmentNeighbors(pos(21)); len(more) != 0 {
		t.Errorf("a second call returned %d entries", len(more))
	}
}
