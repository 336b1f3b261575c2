package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// rtConn is a raw NETLINK_ROUTE socket, bound in the namespace of the thread
// that opened it, that sends requests in batches: a Sync queues what it
// asks of a namespace and sends the queue in one write when it needs the
// answers, so that a namespace costs a round trip per phase rather than
// one per address, route or link. The kernel handles the requests of a
// write in order, each on its own, and acknowledges each.
type rtConn struct {
	fd    int
	seq   uint32
	queue []call
}

// recvBufs holds the buffers replies are read into: a message is handled
// before the next read, so a few buffers serve every socket of a Sync,
// rather than one per namespace (64 MB for 1,000 namespaces, each page
// cleared and then collected).
var recvBufs = sync.Pool{New: func() any { return new([1 << 16]byte) }}

// call is a request with what to do with its outcome.
type call struct {
	req *nl.NetlinkRequest
	// reply, if set, gets the data of each reply message (not the ack).
	reply func(typ uint16, data []byte)
	// fail, if set, is called with the request's error (never nil) and
	// returns the error to report. It must amend the journal when the
	// request made no change.
	fail func(error) error
}

// batchMax bounds the requests of one write, so that their replies fit
// the socket's receive buffer.
const batchMax = 32

// rtextFilterSkipStats is RTEXT_FILTER_SKIP_STATS (linux/rtnetlink.h):
// link replies leave out the counters.
const rtextFilterSkipStats = 1 << 3

func dialRoute() (*rtConn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("opening a netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding a netlink socket: %w", err)
	}
	// Acks carry only the header of the request, and the kernel's reason
	// when it refuses one.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	return &rtConn{fd: fd}, nil
}

func (c *rtConn) close() { unix.Close(c.fd) }

// add queues a call, sent by the next flush or do.
func (c *rtConn) add(cl call) { c.queue = append(c.queue, cl) }

// flush sends the queued calls and returns the first error (by call
// order), after every call's fail has run.
func (c *rtConn) flush() error {
	q := c.queue
	c.queue = nil
	var first error
	for len(q) > 0 {
		n := min(len(q), batchMax)
		if err := c.exchange(q[:n]); err != nil && first == nil {
			first = err
		}
		q = q[n:]
	}
	return first
}

// errNotSent is what the fail of a call queued but never sent gets.
var errNotSent = errors.New("not sent: an earlier step failed")

// discard drops the queued calls unsent, running their fail so that their
// journal records say the changes were not made.
func (c *rtConn) discard() {
	q := c.queue
	c.queue = nil
	for _, cl := range q {
		if cl.fail != nil {
			cl.fail(errNotSent)
		}
	}
}

// do sends the queued calls and then cl, and returns the first error.
func (c *rtConn) do(cl call) error {
	c.add(cl)
	return c.flush()
}

// exchange sends calls in one write and reads until each is acknowledged.
func (c *rtConn) exchange(calls []call) error {
	var out []byte
	bySeq := make(map[uint32]int, len(calls))
	for i, cl := range calls {
		c.seq++
		cl.req.Seq = c.seq
		cl.req.Flags |= unix.NLM_F_ACK
		bySeq[c.seq] = i
		out = append(out, cl.req.Serialize()...)
	}
	errs := make([]error, len(calls))
	buf := recvBufs.Get().(*[1 << 16]byte)
	defer recvBufs.Put(buf)
	if err := unix.Sendto(c.fd, out, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		err = fmt.Errorf("netlink send: %w", err)
		for i := range errs {
			errs[i] = err
		}
		return c.outcome(calls, errs)
	}
	for pending := len(calls); pending > 0; {
		n, _, err := unix.Recvfrom(c.fd, buf[:], 0)
		if err == unix.EINTR {
			continue
		}
		var msgs []syscall.NetlinkMessage
		if err == nil {
			msgs, err = syscall.ParseNetlinkMessage(buf[:n])
		}
		if err != nil {
			// The socket cannot say which requests were made: each
			// is reported failed, and an undo finds what exists.
			err = fmt.Errorf("netlink receive: %w", err)
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
			return c.outcome(calls, errs)
		}
		for _, m := range msgs {
			i, ok := bySeq[m.Header.Seq]
			if !ok {
				continue
			}
			if m.Header.Type != unix.NLMSG_ERROR {
				if calls[i].reply != nil {
					calls[i].reply(m.Header.Type, m.Data)
				}
				continue
			}
			errs[i] = nlError(m.Data)
			pending--
		}
	}
	return c.outcome(calls, errs)
}

// outcome runs the fail of every call that failed and returns the first
// error.
func (c *rtConn) outcome(calls []call, errs []error) error {
	var first error
	for i, err := range errs {
		if err == nil {
			continue
		}
		if calls[i].fail != nil {
			err = calls[i].fail(err)
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// nlError decodes the payload of an NLMSG_ERROR: nil for an ack, else the
// errno with the kernel's extended-ack message when there is one.
func nlError(data []byte) error {
	if len(data) < 4 {
		return errors.New("short netlink error message")
	}
	errno := -int32(binary.NativeEndian.Uint32(data[:4]))
	if errno == 0 {
		return nil
	}
	err := error(syscall.Errno(errno))
	// With NETLINK_CAP_ACK the request's header follows, then the TLVs.
	if len(data) >= 4+unix.SizeofNlMsghdr {
		if attrs, perr := nl.ParseRouteAttr(data[4+unix.SizeofNlMsghdr:]); perr == nil {
			for _, a := range attrs {
				if a.Attr.Type == unix.NLMSGERR_ATTR_MSG {
					err = &kernelMsgError{err, strings.TrimRight(string(a.Value), "\x00")}
				}
			}
		}
	}
	return err
}

// kernelMsgError is an errno with the kernel's own words about it.
type kernelMsgError struct {
	errno error
	msg   string
}

func (e *kernelMsgError) Error() string { return e.errno.Error() + " (" + e.msg + ")" }
func (e *kernelMsgError) Unwrap() error { return e.errno }

// linkInfo is what a Sync wants to know of a link.
type linkInfo struct {
	index int
	oper  uint8 // IF_OPER_*
	// link is IFLA_LINK: for a veth end, its peer's index in the peer's
	// namespace.
	link int
	name string
}

// getLink asks for the link called name. Asking for one link by name also
// runs its pending linkwatch work (see waitRunning).
func (c *rtConn) getLink(name string) (linkInfo, error) {
	var li linkInfo
	err := c.do(call{req: getLinkReq(name), reply: func(typ uint16, data []byte) {
		li = parseLink(typ, data)
	}})
	if err == nil && li.index == 0 {
		err = fmt.Errorf("no link %s in the kernel's reply", name)
	}
	return li, err
}

// parseLink reads the index, name, operational state and IFLA_LINK of an
// RTM_NEWLINK. It walks the attributes in place: a Sync parses a reply of
// some fifty attributes for every link it makes and every readiness
// lookup, and allocating each (nl.ParseRouteAttr) cost 0.1 s of CPU at
// 1,000 namespaces.
func parseLink(typ uint16, data []byte) linkInfo {
	var li linkInfo
	if typ != unix.RTM_NEWLINK || len(data) < unix.SizeofIfInfomsg {
		return li
	}
	li.index = int(int32(binary.NativeEndian.Uint32(data[4:8]))) // ifi_index
	for b := data[unix.SizeofIfInfomsg:]; len(b) >= unix.SizeofRtAttr; {
		n := int(binary.NativeEndian.Uint16(b[0:2]))
		if n < unix.SizeofRtAttr || n > len(b) {
			break
		}
		v := b[unix.SizeofRtAttr:n]
		switch binary.NativeEndian.Uint16(b[2:4]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER) {
		case unix.IFLA_OPERSTATE:
			if len(v) > 0 {
				li.oper = v[0]
			}
		case unix.IFLA_LINK:
			if len(v) == 4 {
				li.link = int(binary.NativeEndian.Uint32(v))
			}
		case unix.IFLA_IFNAME:
			li.name = strings.TrimRight(string(v), "\x00")
		}
		b = b[min((n+unix.NLA_ALIGNTO-1)&^(unix.NLA_ALIGNTO-1), len(b)):]
	}
	return li
}

// links dumps the links of the socket's namespace, by name. A dump that
// the kernel interrupted because the list changed is retried.
func (c *rtConn) links() (map[string]linkInfo, error) {
	for range 10 {
		links, err := c.dumpLinks()
		if !errors.Is(err, errDumpInterrupted) {
			return links, err
		}
	}
	return nil, errDumpInterrupted
}

var errDumpInterrupted = errors.New("link dump interrupted")

func (c *rtConn) dumpLinks() (map[string]linkInfo, error) {
	req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_DUMP)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_EXT_MASK, nl.Uint32Attr(rtextFilterSkipStats)))
	c.seq++
	req.Seq = c.seq
	if err := unix.Sendto(c.fd, req.Serialize(), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink send: %w", err)
	}
	links := map[string]linkInfo{}
	interrupted := false
	buf := recvBufs.Get().(*[1 << 16]byte)
	defer recvBufs.Put(buf)
	for {
		n, _, err := unix.Recvfrom(c.fd, buf[:], 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("netlink receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Header.Seq != req.Seq {
				continue
			}
			if m.Header.Flags&unix.NLM_F_DUMP_INTR != 0 {
				interrupted = true
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				if interrupted {
					return nil, errDumpInterrupted
				}
				return links, nil
			case unix.NLMSG_ERROR:
				if err := nlError(m.Data); err != nil {
					return nil, err
				}
			case unix.RTM_NEWLINK:
				if li := parseLink(m.Header.Type, m.Data); li.name != "" {
					links[li.name] = li
				}
			}
		}
	}
}

// --- requests -----------------------------------------------------------

const createFlags = unix.NLM_F_CREATE | unix.NLM_F_EXCL

func getLinkReq(name string) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_GETLINK, 0)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	req.AddData(nl.NewRtAttr(unix.IFLA_EXT_MASK, nl.Uint32Attr(rtextFilterSkipStats)))
	return req
}

// linkSpec is a link to create: its name, and what the creating message
// sets. Index 0 lets the kernel choose.
type linkSpec struct {
	name   string
	mac    net.HardwareAddr
	mtu    int
	master int  // ifindex of the bridge it joins, 0 for none
	up     bool // up in the creating message
	nsFD   int  // namespace to create it in, -1 for the socket's
	// queues is its number of transmit and of receive queues, 0 for the
	// kernel's default.
	queues int
	// group is its interface group, 0 for the default group.
	group uint32
}

// attrs appends the attributes of s to a link message, or to a veth
// peer's nested message.
func (s linkSpec) attrs(add func(typ int, data []byte)) {
	add(unix.IFLA_IFNAME, nl.ZeroTerminated(s.name))
	if len(s.mac) > 0 {
		add(unix.IFLA_ADDRESS, []byte(s.mac))
	}
	if s.mtu > 0 {
		add(unix.IFLA_MTU, nl.Uint32Attr(uint32(s.mtu)))
	}
	if s.master > 0 {
		add(unix.IFLA_MASTER, nl.Uint32Attr(uint32(s.master)))
	}
	if s.nsFD >= 0 {
		add(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(s.nsFD)))
	}
	if s.group != 0 {
		add(unix.IFLA_GROUP, nl.Uint32Attr(s.group))
	}
	if s.queues > 0 {
		add(unix.IFLA_NUM_TX_QUEUES, nl.Uint32Attr(uint32(s.queues)))
		add(unix.IFLA_NUM_RX_QUEUES, nl.Uint32Attr(uint32(s.queues)))
	}
}

func (s linkSpec) ifinfo() *nl.IfInfomsg {
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	if s.up {
		msg.Flags, msg.Change = unix.IFF_UP, unix.IFF_UP
	}
	return msg
}

// newLinkReq creates link s of kind ("bridge", "veth"); a veth's peer is
// given by peer.
func newLinkReq(s linkSpec, kind string, peer *linkSpec) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, createFlags)
	req.AddData(s.ifinfo())
	s.attrs(func(typ int, data []byte) { req.AddData(nl.NewRtAttr(typ, data)) })
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated(kind))
	if peer != nil {
		data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
		p := data.AddRtAttr(nl.VETH_INFO_PEER, nil)
		nl.NewIfInfomsgChild(p, unix.AF_UNSPEC)
		peer.attrs(func(typ int, data []byte) { p.AddRtAttr(typ, data) })
	}
	req.AddData(info)
	return req
}

// setLinkReq changes the link with index (or, when index is 0, called
// name): up when up, and its alias when alias is not empty.
func setLinkReq(index int, name string, up bool, alias string) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, 0)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(index)
	if up {
		msg.Flags, msg.Change = unix.IFF_UP, unix.IFF_UP
	}
	req.AddData(msg)
	if index == 0 {
		req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	}
	if alias != "" {
		req.AddData(nl.NewRtAttr(unix.IFLA_IFALIAS, []byte(alias)))
	}
	return req
}

func family(a netip.Addr) int {
	if a.Is6() {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

// addrReq adds address p to link index. IPv6 addresses skip duplicate
// address detection, so they are usable at once.
func addrReq(index int, p netip.Prefix) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_NEWADDR, createFlags)
	msg := nl.NewIfAddrmsg(family(p.Addr()))
	msg.Prefixlen = uint8(p.Bits())
	msg.Index = uint32(index)
	req.AddData(msg)
	ip := p.Addr().AsSlice()
	req.AddData(nl.NewRtAttr(unix.IFA_LOCAL, ip))
	req.AddData(nl.NewRtAttr(unix.IFA_ADDRESS, ip))
	if p.Addr().Is4() {
		if bc := broadcast(p); bc.IsValid() {
			req.AddData(nl.NewRtAttr(unix.IFA_BROADCAST, bc.AsSlice()))
		}
	} else {
		msg.Flags = unix.IFA_F_NODAD
	}
	return req
}

// broadcast is the broadcast address of an IPv4 subnet, as `ip addr add`
// and netlink.AddrAdd set it; none for /31 and /32.
func broadcast(p netip.Prefix) netip.Addr {
	if p.Bits() >= 31 {
		return netip.Addr{}
	}
	b := p.Addr().As4()
	host := ^uint32(0) >> p.Bits()
	v := binary.BigEndian.Uint32(b[:]) | host
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// routeReq adds a route in the main table.
func routeReq(dst netip.Prefix, via netip.Addr, oif, metric int) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_NEWROUTE, createFlags)
	msg := nl.NewRtMsg() // main table, boot protocol, universe scope, unicast
	msg.Family = uint8(family(dst.Addr()))
	msg.Dst_len = uint8(dst.Bits())
	req.AddData(msg)
	if dst.Bits() > 0 {
		req.AddData(nl.NewRtAttr(unix.RTA_DST, dst.Addr().AsSlice()))
	}
	if via.IsValid() {
		req.AddData(nl.NewRtAttr(unix.RTA_GATEWAY, via.AsSlice()))
	}
	if oif > 0 {
		req.AddData(nl.NewRtAttr(unix.RTA_OIF, nl.Uint32Attr(uint32(oif))))
	}
	if metric > 0 {
		req.AddData(nl.NewRtAttr(unix.RTA_PRIORITY, nl.Uint32Attr(uint32(metric))))
	}
	return req
}

// neighReq sets a permanent neighbour entry, replacing what the kernel
// had for the address (as netlink.NeighSet does).
func neighReq(index int, addr netip.Addr, mac net.HardwareAddr) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_REPLACE)
	req.AddData(&netlink.Ndmsg{Family: uint8(family(addr)), Index: uint32(index), State: unix.NUD_PERMANENT})
	req.AddData(nl.NewRtAttr(unix.NDA_DST, addr.AsSlice()))
	req.AddData(nl.NewRtAttr(unix.NDA_LLADDR, []byte(mac)))
	return req
}
