package icmp

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ICMP message types used here.
const (
	echoRequest4 = 8
	echoReply4   = 0
	echoRequest6 = 128
	echoReply6   = 129
)

// cookieLen is the size of the random payload every request carries and
// every reply must echo.
const cookieLen = 8

// rcvBuf is the receive buffer asked for, so that a burst of replies is not
// dropped before the reader gets to it.
const rcvBuf = 1 << 20

// socket is one raw ICMP or ICMPv6 socket in one namespace, and the requests
// it waits answers for.
type socket struct {
	ns     string
	v6     bool
	file   *os.File
	conn   syscall.RawConn
	id     uint16
	cookie [cookieLen]byte

	mu      sync.Mutex
	seq     uint16             // last sequence number used
	pending map[uint16]*waiter // requests waiting for their reply, by sequence
	zones   map[string]uint32  // interface indexes of zones, by name
}

// waiter is one request waiting for its reply.
type waiter struct {
	dst   netip.Addr // zone removed
	sent  time.Time
	reply chan time.Duration // the round-trip time; buffered, written once
}

// newSocket configures a raw socket fd just opened in namespace ns and takes
// ownership of it.
func newSocket(fd int, ns string, v6 bool) (*socket, error) {
	s := &socket{ns: ns, v6: v6, pending: map[uint16]*waiter{}, zones: map[string]uint32{}}
	var id [2]byte
	rand.Read(id[:])
	rand.Read(s.cookie[:])
	s.id = binary.BigEndian.Uint16(id[:])
	if err := s.setup(fd); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("icmp: configuring socket in %s: %w", nsName(ns), err)
	}
	s.file = os.NewFile(uintptr(fd), "icmp:"+nsName(ns))
	conn, err := s.file.SyscallConn()
	if err != nil {
		s.file.Close()
		return nil, err
	}
	s.conn = conn
	return s, nil
}

// setup narrows what the socket receives to echo replies with its
// identifier, and asks for kernel receive timestamps.
func (s *socket) setup(fd int) error {
	var prog []unix.SockFilter
	if s.v6 {
		var f unix.ICMPv6Filter
		for i := range f.Data {
			f.Data[i] = ^uint32(0) // a set bit blocks the type
		}
		f.Data[echoReply6>>5] &^= 1 << (echoReply6 & 31)
		if err := unix.SetsockoptICMPv6Filter(fd, unix.SOL_ICMPV6, unix.ICMPV6_FILTER, &f); err != nil {
			return fmt.Errorf("ICMPV6_FILTER: %w", err)
		}
		// An ICMPv6 raw socket receives the message without the IPv6 header.
		prog = []unix.SockFilter{
			{Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, K: 0},
			{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jf: 3, K: echoReply6},
			{Code: unix.BPF_LD | unix.BPF_H | unix.BPF_ABS, K: 4},
			{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jf: 1, K: uint32(s.id)},
			{Code: unix.BPF_RET | unix.BPF_K, K: 0xffff},
			{Code: unix.BPF_RET | unix.BPF_K, K: 0},
		}
	} else {
		// A set bit blocks the type.
		block := ^uint32(1 << echoReply4)
		if err := unix.SetsockoptInt(fd, unix.SOL_RAW, unix.ICMP_FILTER, int(int32(block))); err != nil {
			return fmt.Errorf("ICMP_FILTER: %w", err)
		}
		// An IPv4 raw socket receives the IP header too: X = its length.
		prog = []unix.SockFilter{
			{Code: unix.BPF_LDX | unix.BPF_B | unix.BPF_MSH, K: 0},
			{Code: unix.BPF_LD | unix.BPF_B | unix.BPF_IND, K: 0},
			{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jf: 3, K: echoReply4},
			{Code: unix.BPF_LD | unix.BPF_H | unix.BPF_IND, K: 4},
			{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jf: 1, K: uint32(s.id)},
			{Code: unix.BPF_RET | unix.BPF_K, K: 0xffff},
			{Code: unix.BPF_RET | unix.BPF_K, K: 0},
		}
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return fmt.Errorf("SO_ATTACH_FILTER: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fmt.Errorf("SO_TIMESTAMPNS: %w", err)
	}
	// Forcing the size needs CAP_NET_ADMIN; otherwise take what rmem_max allows.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvBuf) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvBuf)
	}
	return nil
}

// close closes the socket, which ends readLoop.
func (s *socket) close() { s.file.Close() }

// probe sends count requests to dst, one after the other, and records what
// happened in r.
func (s *socket) probe(ctx context.Context, dst netip.Addr, count int, timeout time.Duration, r *Result) {
	sa, err := s.sockaddr(dst)
	if err != nil {
		r.Err = err
		return
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for range count {
		if ctx.Err() != nil {
			r.Err = ctx.Err()
			return
		}
		seq, w := s.expect(dst)
		r.Sent++
		if err := s.send(seq, sa); err != nil {
			s.forget(seq)
			if errors.Is(err, os.ErrClosed) {
				r.Err = err
				return
			}
			r.SendErr = err
			continue
		}
		timer.Reset(timeout)
		var rtt time.Duration
		select {
		case rtt = <-w.reply:
		case <-timer.C:
			rtt = s.late(seq, w)
		case <-ctx.Done():
			s.forget(seq)
			r.Err = ctx.Err()
			return
		}
		if rtt > 0 && rtt <= timeout {
			r.Received++
			r.RTTs = append(r.RTTs, rtt)
		}
	}
}

// expect allocates a sequence number for a request to dst and registers
// a waiter for its reply.
func (s *socket) expect(dst netip.Addr) (uint16, *waiter) {
	w := &waiter{dst: dst.WithZone(""), reply: make(chan time.Duration, 1)}
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		s.seq++
		if _, busy := s.pending[s.seq]; !busy {
			break
		}
	}
	w.sent = time.Now()
	s.pending[s.seq] = w
	return s.seq, w
}

// forget stops waiting for the reply to request seq.
func (s *socket) forget(seq uint16) {
	s.mu.Lock()
	delete(s.pending, seq)
	s.mu.Unlock()
}

// late stops waiting for request seq after its timer fired, and returns the
// reply's round-trip time if the reader delivered it meanwhile, or 0.
func (s *socket) late(seq uint16, w *waiter) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, waiting := s.pending[seq]; waiting {
		delete(s.pending, seq)
		return 0
	}
	// The reader took the waiter, and replies under the lock.
	return <-w.reply
}

// send sends echo request seq to sa.
func (s *socket) send(seq uint16, sa unix.Sockaddr) error {
	var msg [8 + cookieLen]byte
	msg[0] = echoRequest4
	if s.v6 {
		msg[0] = echoRequest6
	}
	binary.BigEndian.PutUint16(msg[4:], s.id)
	binary.BigEndian.PutUint16(msg[6:], seq)
	copy(msg[8:], s.cookie[:])
	if !s.v6 {
		// The kernel computes ICMPv6 checksums, not ICMP ones.
		binary.BigEndian.PutUint16(msg[2:], checksum(msg[:]))
	}
	var serr error
	err := s.conn.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), msg[:], 0, sa)
		return serr != unix.EAGAIN
	})
	if err != nil {
		return err
	}
	return serr
}

// sockaddr returns the socket address for dst, resolving a zone name to an
// interface index in the socket's namespace.
func (s *socket) sockaddr(dst netip.Addr) (unix.Sockaddr, error) {
	if dst.Is4() {
		return &unix.SockaddrInet4{Addr: dst.As4()}, nil
	}
	sa := &unix.SockaddrInet6{Addr: dst.As16()}
	zone := dst.Zone()
	if zone == "" {
		return sa, nil
	}
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		sa.ZoneId = uint32(n)
		return sa, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	index, ok := s.zones[zone]
	if !ok {
		// The ioctl looks the name up in the socket's namespace, whatever
		// the calling thread's.
		ifr, err := unix.NewIfreq(zone)
		if err == nil {
			var ioErr error
			err = s.conn.Control(func(fd uintptr) {
				ioErr = unix.IoctlIfreq(int(fd), unix.SIOCGIFINDEX, ifr)
			})
			err = cmp.Or(err, ioErr)
		}
		if err != nil {
			return nil, fmt.Errorf("icmp: zone of %s: no interface %q in %s: %w", dst, zone, nsName(s.ns), err)
		}
		index = ifr.Uint32()
		s.zones[zone] = index
	}
	sa.ZoneId = index
	return sa, nil
}

// readLoop reads replies and hands them to their waiters until the socket is
// closed.
func (s *socket) readLoop() {
	buf := make([]byte, 512)
	oob := make([]byte, unix.CmsgSpace(16))
	for {
		var n, oobn int
		var sa unix.Sockaddr
		var rerr error
		err := s.conn.Read(func(fd uintptr) bool {
			n, oobn, _, sa, rerr = unix.Recvmsg(int(fd), buf, oob, 0)
			return rerr != unix.EAGAIN
		})
		if err != nil {
			return // closed
		}
		if rerr != nil {
			continue // EINTR, or an error queued by the kernel; next packet
		}
		now := time.Now()
		seq, ok := s.parse(buf[:n])
		if !ok {
			continue
		}
		var from netip.Addr
		switch sa := sa.(type) {
		case *unix.SockaddrInet4:
			from = netip.AddrFrom4(sa.Addr)
		case *unix.SockaddrInet6:
			from = netip.AddrFrom16(sa.Addr)
		default:
			continue
		}
		s.deliver(from, seq, now, rxTime(oob[:oobn]))
	}
}

// parse returns the sequence number of an echo reply to this socket, or ok
// false for anything else. An IPv4 raw socket receives the IP header too, an
// ICMPv6 one only the message.
func (s *socket) parse(pkt []byte) (seq uint16, ok bool) {
	msg, reply := pkt, byte(echoReply6)
	if !s.v6 {
		if len(pkt) < 20 || pkt[0]>>4 != 4 {
			return 0, false
		}
		ihl := int(pkt[0]&0x0f) * 4
		if ihl < 20 || len(pkt) < ihl {
			return 0, false
		}
		msg, reply = pkt[ihl:], echoReply4
		// The kernel checks ICMPv6 checksums for raw sockets, not ICMP ones.
		if checksum(msg) != 0 {
			return 0, false
		}
	}
	if len(msg) < 8+cookieLen || msg[0] != reply || msg[1] != 0 ||
		binary.BigEndian.Uint16(msg[4:]) != s.id || string(msg[8:8+cookieLen]) != string(s.cookie[:]) {
		return 0, false
	}
	return binary.BigEndian.Uint16(msg[6:]), true
}

// deliver hands the reply to request seq from address from, received at now
// (and at rx by the kernel's clock, when known), to its waiter.
func (s *socket) deliver(from netip.Addr, seq uint16, now, rx time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.pending[seq]
	if !ok || from != w.dst {
		return
	}
	delete(s.pending, seq)
	rtt := now.Sub(w.sent)
	if !rx.IsZero() {
		// Both are wall-clock readings; use the kernel's unless the clock
		// jumped in between.
		if k := rx.Sub(w.sent.Round(0)); k > 0 && k <= rtt {
			rtt = k
		}
	}
	w.reply <- max(rtt, 1)
}

// rxTime returns the SCM_TIMESTAMPNS time in a control message, or zero.
func rxTime(oob []byte) time.Time {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}
	}
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_SOCKET || m.Header.Type != unix.SCM_TIMESTAMPNS {
			continue
		}
		switch len(m.Data) {
		case 16:
			return time.Unix(int64(binary.NativeEndian.Uint64(m.Data)), int64(binary.NativeEndian.Uint64(m.Data[8:])))
		case 8:
			return time.Unix(int64(int32(binary.NativeEndian.Uint32(m.Data))), int64(int32(binary.NativeEndian.Uint32(m.Data[4:]))))
		}
	}
	return time.Time{}
}

// checksum returns the Internet checksum (RFC 1071) of b.
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
