package topo

import (
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Error is a problem with one resource, reported at the script position of
// the call that declared it.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// MaxIfName is the longest interface name Linux accepts, in bytes.
const MaxIfName = 15

// CheckIfName reports whether name can name a network interface.
func CheckIfName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("interface name is empty; give a name of 1 to %d bytes", MaxIfName)
	case len(name) > MaxIfName:
		return fmt.Errorf("interface name %q is %d bytes; Linux allows at most %d", name, len(name), MaxIfName)
	case name == "." || name == "..":
		return fmt.Errorf("interface name %q is reserved; pick another", name)
	}
	if i := strings.IndexFunc(name, badIfRune); i >= 0 {
		return fmt.Errorf("interface name %q contains %q; use letters, digits, '-', '_' or '.'", name, runeAt(name, i))
	}
	return nil
}

func badIfRune(r rune) bool {
	return r == '/' || r == ':' || r <= ' ' || r == 0x7f || r > 0x7e
}

// CheckNetnsName reports whether name can name a network namespace: a file
// under /run/netns, and short enough to derive interface names from.
func CheckNetnsName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("namespace name is empty; give a name such as \"red\"")
	case name == "host":
		return fmt.Errorf("namespace name \"host\" is reserved for the root namespace; use the predeclared host instead")
	case len(name) > 64:
		return fmt.Errorf("namespace name %q is %d bytes; use at most 64", name, len(name))
	case name == "." || name == "..":
		return fmt.Errorf("namespace name %q is reserved; pick another", name)
	}
	if i := strings.IndexFunc(name, badIfRune); i >= 0 {
		return fmt.Errorf("namespace name %q contains %q; use letters, digits, '-', '_' or '.'", name, runeAt(name, i))
	}
	return nil
}

// runeAt returns the character that starts at byte i of s.
func runeAt(s string, i int) rune {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r
}

// ParseCIDR parses an interface address such as "10.0.1.2/24" or
// "fd00::1/64". Host bits are kept: they are the address.
func ParseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if a, aerr := netip.ParseAddr(s); aerr == nil && a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q has a zone; write the address without %%zone", s)
		} else if aerr == nil {
			return netip.Prefix{}, fmt.Errorf("address %q has no prefix length; write it as a CIDR such as %s/24 (IPv4) or /64 (IPv6)", s, s)
		}
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR address; want e.g. \"10.0.1.2/24\" or \"fd00::1/64\"", s)
	}
	if p.Addr().Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q has a zone; write the address without %%zone", s)
	}
	return p, nil
}

// ParseDst parses a route destination: "default", "default6", or a CIDR
// network. Host bits must be zero, as the kernel requires.
func ParseDst(s string) (netip.Prefix, error) {
	switch s {
	case "default", "0.0.0.0/0":
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), nil
	case "default6", "::/0":
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if a, aerr := netip.ParseAddr(s); aerr == nil {
			return netip.PrefixFrom(a, a.BitLen()), nil
		}
		return netip.Prefix{}, fmt.Errorf("route destination %q is not \"default\", an address or a CIDR network such as \"10.0.0.0/24\"", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("route destination %q has host bits set; did you mean %q?", s, p.Masked().String())
	}
	return p, nil
}

// index finds declared resources by name. It is rebuilt on demand.
type index struct {
	netns   map[string]*Netns
	bridges map[nsName]*Bridge
	ifaces  map[nsName]Pos // every interface: bridges and veth ends
	addrs   map[nsAddr]*Addr
	routes  map[nsRoute]*Route
	sysctls map[nsName]*Sysctl
	macs    map[string]macOwner // by string(MAC)
	neighs  map[nsNeigh]*Neighbor
}

type macOwner struct {
	ns, name string
	pos      Pos
}
type nsNeigh struct {
	ns, dev string
	addr    netip.Addr
}

type nsName struct{ ns, name string }
type nsAddr struct {
	ns   string
	addr netip.Addr
}
type nsRoute struct {
	ns     string
	dst    netip.Prefix
	metric int
}

func (l *Lab) idx() *index {
	if l.index != nil {
		return l.index
	}
	x := &index{
		netns:   map[string]*Netns{},
		bridges: map[nsName]*Bridge{},
		ifaces:  map[nsName]Pos{},
		addrs:   map[nsAddr]*Addr{},
		routes:  map[nsRoute]*Route{},
		sysctls: map[nsName]*Sysctl{},
		macs:    map[string]macOwner{},
		neighs:  map[nsNeigh]*Neighbor{},
	}
	for _, n := range l.Netns {
		x.netns[n.Name] = n
	}
	for _, b := range l.Bridges {
		x.bridges[nsName{b.NS, b.Name}] = b
		x.ifaces[nsName{b.NS, b.Name}] = b.Pos
		x.macs[string(b.MAC)] = macOwner{b.NS, b.Name, b.Pos}
	}
	for _, v := range l.Veths {
		x.ifaces[nsName{v.A.NS, v.A.Name}] = v.Pos
		x.ifaces[nsName{v.B.NS, v.B.Name}] = v.Pos
		x.macs[string(v.A.MAC)] = macOwner{v.A.NS, v.A.Name, v.Pos}
		x.macs[string(v.B.MAC)] = macOwner{v.B.NS, v.B.Name, v.Pos}
	}
	for _, n := range l.Neighbors {
		x.neighs[nsNeigh{n.NS, n.Dev, n.Addr}] = n
	}
	for _, a := range l.Addrs {
		x.addrs[nsAddr{a.NS, a.Prefix.Addr()}] = a
	}
	for _, r := range l.Routes {
		x.routes[nsRoute{r.NS, r.Dst, r.Metric}] = r
	}
	for _, s := range l.Sysctls {
		x.sysctls[nsName{s.NS, s.Key}] = s
	}
	l.index = x
	return x
}

// LookupNetns returns the namespace declared with name, or nil.
func (l *Lab) LookupNetns(name string) *Netns { return l.idx().netns[name] }

// LookupBridge returns the bridge name in ns, or nil.
func (l *Lab) LookupBridge(ns, name string) *Bridge { return l.idx().bridges[nsName{ns, name}] }

// HasIface reports whether the lab declares an interface name in ns.
func (l *Lab) HasIface(ns, name string) bool {
	_, ok := l.idx().ifaces[nsName{ns, name}]
	return ok
}

func (l *Lab) checkNS(ns string) error {
	if ns != Host && l.idx().netns[ns] == nil {
		return fmt.Errorf("namespace %q is not declared in this lab; declare it with netns(%q) first", ns, ns)
	}
	return nil
}

func (l *Lab) checkNewIface(ns, name string) error {
	if err := CheckIfName(name); err != nil {
		return err
	}
	if pos, ok := l.idx().ifaces[nsName{ns, name}]; ok {
		return fmt.Errorf("interface %q already exists in namespace %s (declared at %s); pick another name", name, NSName(ns), pos)
	}
	if name == "lo" {
		return fmt.Errorf("interface name \"lo\" is the loopback; pick another name")
	}
	return nil
}

// AddNetns declares a namespace.
func (l *Lab) AddNetns(n *Netns) error {
	if err := CheckNetnsName(n.Name); err != nil {
		return err
	}
	if old := l.idx().netns[n.Name]; old != nil {
		return fmt.Errorf("namespace %q is already declared at %s; each name may be declared once", n.Name, old.Pos)
	}
	l.Netns = append(l.Netns, n)
	l.idx().netns[n.Name] = n
	return nil
}

// AddBridge declares a bridge.
func (l *Lab) AddBridge(b *Bridge) error {
	if err := l.checkNS(b.NS); err != nil {
		return err
	}
	if err := l.checkNewIface(b.NS, b.Name); err != nil {
		return err
	}
	if err := checkMTU(b.MTU); err != nil {
		return err
	}
	mac, err := l.pickMAC(b.NS, b.Name, b.MAC)
	if err != nil {
		return err
	}
	b.MAC = mac
	l.Bridges = append(l.Bridges, b)
	x := l.idx()
	x.bridges[nsName{b.NS, b.Name}] = b
	x.ifaces[nsName{b.NS, b.Name}] = b.Pos
	x.macs[string(b.MAC)] = macOwner{b.NS, b.Name, b.Pos}
	return nil
}

// pickMAC returns the MAC address for a new interface name in ns: mac,
// when the script gave one and no other interface of the lab has it, or
// one derived from the names that no other interface has.
func (l *Lab) pickMAC(ns, name string, mac net.HardwareAddr, also ...net.HardwareAddr) (net.HardwareAddr, error) {
	taken := func(m net.HardwareAddr) (macOwner, bool) {
		o, ok := l.idx().macs[string(m)]
		for _, a := range also {
			ok = ok || string(a) == string(m)
		}
		return o, ok
	}
	if mac != nil {
		if err := CheckMAC(mac); err != nil {
			return nil, err
		}
		if o, ok := taken(mac); ok {
			if o.name == "" {
				return nil, fmt.Errorf("MAC address %s is given to both ends of this veth; give each its own", mac)
			}
			return nil, fmt.Errorf("MAC address %s is taken by %s in namespace %s (declared at %s); give each interface its own", mac, o.name, NSName(o.ns), o.pos)
		}
		return mac, nil
	}
	for attempt := 0; ; attempt++ {
		m := DeriveMAC(l.Name, ns, name, attempt)
		if _, ok := taken(m); !ok {
			return m, nil
		}
	}
}

func checkMTU(mtu int) error {
	if mtu != 0 && (mtu < 68 || mtu > 65535) {
		return fmt.Errorf("mtu %d is out of range; use 68 to 65535", mtu)
	}
	return nil
}

// AddVeth declares a veth pair.
func (l *Lab) AddVeth(v *Veth) error {
	for _, e := range []End{v.A, v.B} {
		if err := l.checkNS(e.NS); err != nil {
			return err
		}
		if err := l.checkNewIface(e.NS, e.Name); err != nil {
			return err
		}
		if e.Master != "" && l.LookupBridge(e.NS, e.Master) == nil {
			return fmt.Errorf("bridge %q is not declared in namespace %s", e.Master, NSName(e.NS))
		}
	}
	if v.A.NS == v.B.NS && v.A.Name == v.B.Name {
		return fmt.Errorf("both ends of the veth are named %q in namespace %s; give them different names", v.A.Name, NSName(v.A.NS))
	}
	if err := checkMTU(v.MTU); err != nil {
		return err
	}
	// An explicit MAC of end B counts as taken while end A's is chosen.
	var macB []net.HardwareAddr
	if v.B.MAC != nil {
		macB = append(macB, v.B.MAC)
	}
	macA, err := l.pickMAC(v.A.NS, v.A.Name, v.A.MAC, macB...)
	if err != nil {
		return err
	}
	macB2, err := l.pickMAC(v.B.NS, v.B.Name, v.B.MAC, macA)
	if err != nil {
		return err
	}
	v.A.MAC, v.B.MAC = macA, macB2
	l.Veths = append(l.Veths, v)
	x := l.idx()
	x.ifaces[nsName{v.A.NS, v.A.Name}] = v.Pos
	x.ifaces[nsName{v.B.NS, v.B.Name}] = v.Pos
	x.macs[string(v.A.MAC)] = macOwner{v.A.NS, v.A.Name, v.Pos}
	x.macs[string(v.B.MAC)] = macOwner{v.B.NS, v.B.Name, v.Pos}
	return nil
}

// AddAddr declares an address on an interface of the lab.
func (l *Lab) AddAddr(a *Addr) error {
	if !l.HasIface(a.NS, a.Dev) {
		return fmt.Errorf("interface %q in namespace %s is not part of this lab", a.Dev, NSName(a.NS))
	}
	if !a.Prefix.IsValid() {
		return fmt.Errorf("invalid address")
	}
	ip := a.Prefix.Addr()
	if ip.IsUnspecified() || ip.IsMulticast() || ip.IsLoopback() {
		return fmt.Errorf("%s cannot be an interface address; use a unicast address such as 10.0.0.1/24", a.Prefix)
	}
	if old := l.idx().addrs[nsAddr{a.NS, ip}]; old != nil {
		return fmt.Errorf("address %s is already on %s in namespace %s (declared at %s); each address may be used once per namespace", ip, old.Dev, NSName(a.NS), old.Pos)
	}
	l.Addrs = append(l.Addrs, a)
	l.idx().addrs[nsAddr{a.NS, ip}] = a
	return nil
}

// AddRoute declares a route. Whether its gateway is reachable is checked by
// Check, once all addresses are known.
func (l *Lab) AddRoute(r *Route) error {
	if err := l.checkNS(r.NS); err != nil {
		return err
	}
	if !r.Via.IsValid() && r.Dev == "" {
		return fmt.Errorf("route to %s needs via= (a gateway) or dev= (an interface)", r.Dst)
	}
	if r.Via.IsValid() && r.Via.Is4() != r.Dst.Addr().Is4() {
		return fmt.Errorf("gateway %s and destination %s are of different IP families", r.Via, r.Dst)
	}
	if r.Dev != "" && !l.HasIface(r.NS, r.Dev) {
		return fmt.Errorf("dev %q is not an interface of this lab in namespace %s", r.Dev, NSName(r.NS))
	}
	if r.Metric < 0 {
		return fmt.Errorf("metric %d is negative; use 0 or more", r.Metric)
	}
	k := nsRoute{r.NS, r.Dst, r.Metric}
	if old := l.idx().routes[k]; old != nil {
		return fmt.Errorf("a route to %s in namespace %s is already declared at %s; give this one another metric= or remove one", r.Dst, NSName(r.NS), old.Pos)
	}
	l.Routes = append(l.Routes, r)
	l.idx().routes[k] = r
	return nil
}

// AddMasquerade declares a masquerade rule.
func (l *Lab) AddMasquerade(m *Masquerade) error {
	if err := l.checkNS(m.NS); err != nil {
		return err
	}
	if !m.Src.Addr().Is4() {
		return fmt.Errorf("masquerade source %s is not IPv4; masquerade works on IPv4 networks", m.Src)
	}
	if m.Out != "" {
		if err := CheckIfName(m.Out); err != nil {
			return err
		}
	}
	for _, o := range l.Masquerades {
		if o.NS == m.NS && o.Src == m.Src && o.Out == m.Out {
			return fmt.Errorf("the same masquerade rule is already declared at %s", o.Pos)
		}
	}
	l.Masquerades = append(l.Masquerades, m)
	return nil
}

// AddSysctl declares a sysctl setting.
func (l *Lab) AddSysctl(s *Sysctl) error {
	if err := l.checkNS(s.NS); err != nil {
		return err
	}
	if err := CheckSysctlKey(s.Key); err != nil {
		return err
	}
	if old := l.idx().sysctls[nsName{s.NS, s.Key}]; old != nil {
		return fmt.Errorf("sysctl %s in namespace %s is already set at %s; set each key once", s.Key, NSName(s.NS), old.Pos)
	}
	l.Sysctls = append(l.Sysctls, s)
	l.idx().sysctls[nsName{s.NS, s.Key}] = s
	return nil
}

// LookupNeighbor returns the neighbour entry for addr on interface dev of
// ns, or nil.
func (l *Lab) LookupNeighbor(ns, dev string, addr netip.Addr) *Neighbor {
	return l.idx().neighs[nsNeigh{ns, dev, addr}]
}

// AddNeighbor declares a permanent neighbour entry on an interface of the
// lab.
func (l *Lab) AddNeighbor(n *Neighbor) error {
	if !l.HasIface(n.NS, n.Dev) {
		return fmt.Errorf("interface %q in namespace %s is not part of this lab", n.Dev, NSName(n.NS))
	}
	if !n.Addr.IsValid() || n.Addr.IsUnspecified() || n.Addr.IsMulticast() || n.Addr.IsLoopback() || n.Addr.Zone() != "" {
		return fmt.Errorf("%s cannot have a neighbour entry; give a unicast address without a zone", n.Addr)
	}
	if err := CheckMAC(n.MAC); err != nil {
		return err
	}
	k := nsNeigh{n.NS, n.Dev, n.Addr}
	if old := l.idx().neighs[k]; old != nil {
		return fmt.Errorf("a neighbour entry for %s on %s in namespace %s is already declared at %s", n.Addr, n.Dev, NSName(n.NS), old.Pos)
	}
	l.Neighbors = append(l.Neighbors, n)
	l.idx().neighs[k] = n
	return nil
}

// CheckSysctlKey reports whether key names a network sysctl nsscript may
// set: one under net., written with dots as sysctl(8) does.
func CheckSysctlKey(key string) error {
	if !strings.HasPrefix(key, "net.") {
		return fmt.Errorf("sysctl %q is not a network sysctl; only keys under \"net.\" are per namespace", key)
	}
	for _, part := range strings.Split(key, ".") {
		if part == "" || part == ".." || strings.ContainsAny(part, "/ \t\n") {
			return fmt.Errorf("sysctl key %q is malformed; write it as sysctl(8) does, e.g. \"net.ipv4.ip_forward\"", key)
		}
	}
	return nil
}

// Check makes the checks that need the whole lab: each route's gateway must
// lie in a subnet of an address of its namespace (or be a link-local address
// with dev= given). It returns the first problem found, positioned at the
// offending call.
func (l *Lab) Check() error {
	var byNS map[string][]*Addr // built on the first route with a gateway
	for _, r := range l.Routes {
		if !r.Via.IsValid() {
			continue
		}
		if r.Via.Is6() && r.Via.IsLinkLocalUnicast() {
			if r.Dev == "" {
				return &Error{r.Pos, fmt.Sprintf("route: gateway %s is link-local; say which interface it is on with dev=", r.Via)}
			}
			continue
		}
		if byNS == nil {
			byNS = make(map[string][]*Addr, len(l.Netns)+1)
			for _, a := range l.Addrs {
				byNS[a.NS] = append(byNS[a.NS], a)
			}
		}
		if !gatewayReachable(r, byNS[r.NS]) {
			return gatewayError(r, byNS[r.NS])
		}
	}
	return nil
}

// onLink reports whether a is an address of r's family on the interface
// r goes through (any, when r names none).
func onLink(r *Route, a *Addr) bool {
	return a.Prefix.Addr().Is4() == r.Via.Is4() && (r.Dev == "" || a.Dev == r.Dev)
}

// gatewayReachable reports whether r's gateway lies in the subnet of one
// of addrs, the addresses of r's namespace.
func gatewayReachable(r *Route, addrs []*Addr) bool {
	for _, a := range addrs {
		if onLink(r, a) && a.Prefix.Masked().Contains(r.Via) {
			return true
		}
	}
	return false
}

func gatewayError(r *Route, addrs []*Addr) error {
	var subnets []string
	for _, a := range addrs {
		if onLink(r, a) {
			subnets = append(subnets, a.Prefix.Masked().String()+" on "+a.Dev)
		}
	}
	where := "any subnet"
	if r.Dev != "" {
		where = "a subnet of " + r.Dev
	}
	have := "it has no addresses of that family"
	if len(subnets) > 0 {
		have = "its subnets: " + strings.Join(subnets, ", ")
	}
	return &Error{r.Pos, fmt.Sprintf("route: gateway %s is not in %s of namespace %s (%s); use a gateway inside one of them, or add an address in the gateway's subnet first",
		r.Via, where, NSName(r.NS), have)}
}

// EndName derives a name for a veth end in namespace ns that faces peer:
// "<local>-<peer>", shortened with a hash when it would exceed MaxIfName,
// and numbered when the lab already has an interface of that name in ns.
func (l *Lab) EndName(ns, local, peer string, taken ...string) string {
	base := fit(local + "-" + peer)
	name := base
	for i := 1; l.HasIface(ns, name) || contains(taken, name); i++ {
		suffix := fmt.Sprintf("-%d", i)
		name = fit(base[:min(len(base), MaxIfName-len(suffix))] + suffix)
	}
	return name
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fit shortens s to MaxIfName bytes, keeping it unique with a hash of the
// whole.
func fit(s string) string {
	if len(s) <= MaxIfName {
		return s
	}
	h := fnv.New32a()
	h.Write([]byte(s))
	tag := fmt.Sprintf("%05x", h.Sum32()&0xfffff)
	return s[:MaxIfName-len(tag)-1] + "-" + tag
}
