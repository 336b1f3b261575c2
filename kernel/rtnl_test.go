package kernel

import (
	"testing"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// parseLink finds the index, operational state and peer index of a link
// message among attributes of every length, nested ones included, and
// stops at a truncated one.
func TestParseLink(t *testing.T) {
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = 7
	data := msg.Serialize()
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("veth"))
	for _, a := range []*nl.RtAttr{
		nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated("h1-br0")), // 7 bytes: padded
		nl.NewRtAttr(unix.IFLA_OPERSTATE, []byte{6}),                // 1 byte: padded
		info,
		nl.NewRtAttr(unix.IFLA_LINK, nl.Uint32Attr(42)),
	} {
		data = append(data, a.Serialize()...)
	}
	if got, want := parseLink(unix.RTM_NEWLINK, data), (linkInfo{index: 7, oper: 6, link: 42, name: "h1-br0"}); got != want {
		t.Errorf("parseLink = %+v, want %+v", got, want)
	}
	// A length running past the end stops the walk, keeping what was read.
	bad := append([]byte{}, data[:unix.SizeofIfInfomsg]...)
	bad = append(bad, nl.NewRtAttr(unix.IFLA_OPERSTATE, []byte{2}).Serialize()...)
	bad = append(bad, 0xff, 0x00, byte(unix.IFLA_LINK), 0, 1, 0, 0, 0)
	if got, want := parseLink(unix.RTM_NEWLINK, bad), (linkInfo{index: 7, oper: 2}); got != want {
		t.Errorf("parseLink of a truncated message = %+v, want %+v", got, want)
	}
	if got := parseLink(unix.RTM_NEWADDR, data); got != (linkInfo{}) {
		t.Errorf("parseLink of RTM_NEWADDR = %+v, want nothing", got)
	}
}
