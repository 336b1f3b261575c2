package topo

import (
	"crypto/sha256"
	"fmt"
	"net"
	"strconv"
)

// Every interface a lab creates gets a link-layer (MAC) address the lab
// chooses rather than one the kernel picks at random. The same script
// gives the same addresses on every run, on every machine, so a lab's
// permanent neighbour entries (see Neighbor) can be written down before
// the lab exists, its IPv6 link-local addresses (derived from the MAC) are
// the same every time, and the shell script of --dry-run builds exactly
// the same lab.

// DeriveMAC returns the MAC address of interface name in namespace ns of
// the lab named lab: six bytes of SHA-256 of the three names, made a
// locally administered unicast address (the first byte is x2, x6, xa or
// xe), so it cannot clash with a vendor's address. attempt, 0 at first,
// picks another address when one is taken already in the lab.
func DeriveMAC(lab, ns, name string, attempt int) net.HardwareAddr {
	h := sha256.New()
	h.Write([]byte("nsscript-mac\x00" + lab + "\x00" + ns + "\x00" + name))
	if attempt > 0 {
		h.Write([]byte("\x00" + strconv.Itoa(attempt)))
	}
	sum := h.Sum(nil)
	mac := net.HardwareAddr(sum[:6])
	mac[0] = mac[0]&^0x01 | 0x02
	return mac
}

// ParseMAC parses an Ethernet address such as "02:00:5e:10:00:01" and
// checks that an interface can have it: six bytes, unicast, not zero.
func ParseMAC(s string) (net.HardwareAddr, error) {
	mac, err := net.ParseMAC(s)
	if err != nil || len(mac) != 6 {
		return nil, fmt.Errorf("%q is not an Ethernet address; want six bytes such as \"02:00:00:00:00:01\"", s)
	}
	if err := CheckMAC(mac); err != nil {
		return nil, err
	}
	return mac, nil
}

// CheckMAC reports whether an interface can have address mac.
func CheckMAC(mac net.HardwareAddr) error {
	switch {
	case len(mac) != 6:
		return fmt.Errorf("MAC address %s is not six bytes long", mac)
	case mac[0]&0x01 != 0:
		return fmt.Errorf("MAC address %s is a multicast address (the first byte is odd); an interface needs a unicast one, such as %02x%s", mac, mac[0]&^0x01|0x02, mac.String()[2:])
	case isZero(mac):
		return fmt.Errorf("MAC address %s is all zeros; give another", mac)
	}
	return nil
}

func isZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
