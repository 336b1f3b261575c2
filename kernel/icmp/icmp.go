// Package icmp sends ICMP and ICMPv6 echo requests from inside network
// namespaces, without the ping binary, and probes many source/destination
// pairs at once.
//
// Ping answers "does dst answer echo requests sent from namespace ns?";
// Matrix answers the same question for a list of pairs, concurrently, and is
// what a lab uses to check a whole mesh: the 9,900 ordered pairs of 100
// namespaces on one bridge take about 0.3 s on two cores, where a loop over
// `ip netns exec … ping` takes minutes (but see Neighbour tables below).
//
// # Namespaces
//
// A namespace is named by the path of a network namespace file, such as
// "/run/netns/red" (what `ip netns add red` creates) or "/proc/PID/ns/net".
// The empty string means the namespace the process started in.
//
// # Design
//
// Everything goes through raw sockets: one IPv4 and/or one IPv6 socket per
// source namespace, whatever the number of destinations. A socket belongs to
// the namespace its creating thread was in when it called socket(2), and
// stays there wherever it is used later. So all sockets of a call are opened
// on one throw-away goroutine locked to its OS thread, which setns(2)es into
// each source namespace in turn, creates the sockets, and switches back to the
// namespace it started in. The thread is unlocked, and so returned to the Go
// scheduler, only when switching back succeeded; otherwise the goroutine ends
// locked and the runtime discards the thread. When the thread already is in
// the namespace asked for, no switch happens at all, so pinging from the
// process's own namespace needs CAP_NET_RAW only.
//
// After that, sending and receiving are plain socket calls through Go's
// poller, on any thread. A raw ICMP socket receives a copy of every ICMP
// message its namespace receives, so each socket is narrowed twice in the
// kernel: ICMP_FILTER (IPv4) or ICMPV6_FILTER (IPv6) lets only echo replies
// through, and a classic BPF program keeps only those carrying the socket's
// own identifier. In user space a reply must also come from the address the
// request went to, carry a sequence number still waited for, and echo the
// socket's random cookie. Echo replies of other programs, other calls and
// late replies are dropped.
//
// Each probe sends its count requests one after the other: the next goes
// when the previous one was answered or timed out, so a pair never has more
// than one request outstanding and inflight bounds the requests in the
// network at any time. The kernel computes ICMPv6 checksums and timestamps
// received packets (SO_TIMESTAMPNS), so round-trip times do not include the
// time a busy process takes to read the reply.
//
// Opening raw sockets needs CAP_NET_RAW and entering another namespace
// CAP_SYS_ADMIN, in the user namespace owning the network namespace: root, or
// root inside a user namespace. Unprivileged ICMP datagram sockets are not
// used: net.ipv4.ping_group_range disables them in every new namespace.
//
// # Neighbour tables
//
// A full mesh of n namespaces on one link needs n×(n−1) ARP entries (and as
// many NDP entries for IPv6), and the kernel's neighbour tables are shared by
// all namespaces, the host's included. Once a table holds
// net.ipv4.neigh.default.gc_thresh3 entries (1024 by default), the kernel can
// only make room by dropping entries unused for 5 seconds, so new neighbours
// fail and their packets are dropped silently ("neighbor table overflow" in
// the kernel log): probing all pairs of more than about 32 namespaces at once
// finds about 1024 of them answering, and starves the host's own neighbour
// resolution meanwhile. Such a lab needs permanent neighbour entries, which
// do not count, or a gc_thresh3 raised by the host's administrator.
package icmp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sync"
	"time"
)

// Defaults used when Ping or Matrix get a zero or negative value.
const (
	// DefaultTimeout is how long a request waits for its reply.
	DefaultTimeout = time.Second
	// DefaultInflight is how many probes Matrix runs at once.
	DefaultInflight = 512
)

// maxInflight keeps the requests outstanding on one socket below the 65,536
// sequence numbers it can tell apart.
const maxInflight = 1 << 15

// Probe is one path to test: echo requests sent from namespace Src to Dst.
type Probe struct {
	// Src is the path of a network namespace file, such as
	// "/run/netns/red"; "" is the namespace the process started in.
	Src string
	// Dst is the address pinged. An IPv4-mapped IPv6 address is pinged over
	// IPv4. A link-local IPv6 address needs a zone: an interface name or
	// index, as seen in Src.
	Dst netip.Addr
}

// Result is what probing one Probe found.
type Result struct {
	Probe
	// Sent is the number of echo requests sent, including those the kernel
	// refused to send (see SendErr).
	Sent int
	// Received is the number of requests answered within the timeout.
	Received int
	// RTTs holds the round-trip time of each answered request, in order.
	RTTs []time.Duration
	// SendErr is the last error the kernel returned for a send, such as
	// ENETUNREACH when Src has no route to Dst, or EPERM when a firewall
	// in Src rejects the request. Such a request counts as sent and lost.
	SendErr error
	// Err is set when the probe could not run, or not to its end: Src
	// cannot be entered, no socket can be opened there, Dst is not usable,
	// or the context ended. Received and RTTs hold what was seen before.
	Err error
}

// OK reports whether the probe ran and at least one request was answered.
func (r Result) OK() bool { return r.Err == nil && r.Received > 0 }

// Min returns the shortest round-trip time, or 0 when nothing was answered.
func (r Result) Min() time.Duration {
	if len(r.RTTs) == 0 {
		return 0
	}
	m := time.Duration(math.MaxInt64)
	for _, d := range r.RTTs {
		m = min(m, d)
	}
	return m
}

// Max returns the longest round-trip time, or 0 when nothing was answered.
func (r Result) Max() time.Duration {
	var m time.Duration
	for _, d := range r.RTTs {
		m = max(m, d)
	}
	return m
}

// Avg returns the mean round-trip time, or 0 when nothing was answered.
func (r Result) Avg() time.Duration {
	if len(r.RTTs) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range r.RTTs {
		sum += d
	}
	return sum / time.Duration(len(r.RTTs))
}

// Ping sends count echo requests from namespace ns to dst, each waiting up to
// timeout for its reply before the next is sent (count defaults to 1, timeout
// to DefaultTimeout). A request left unanswered is not an error; it shows as
// Received < Sent. The error, also in Result.Err, reports a probe that could
// not run: ns cannot be entered, no socket, dst unusable, or ctx ended.
func Ping(ctx context.Context, ns string, dst netip.Addr, count int, timeout time.Duration) (Result, error) {
	r := Matrix(ctx, []Probe{{Src: ns, Dst: dst}}, count, timeout, 1)[0]
	return r, r.Err
}

// Matrix runs every probe as Ping would and returns their results in the
// order of probes. At most inflight probes run at once (DefaultInflight when
// inflight <= 0), sharing one socket per source namespace and address
// family. Failures are per probe, in Result.Err; when ctx ends, probes not
// finished get ctx.Err().
func Matrix(ctx context.Context, probes []Probe, count int, timeout time.Duration, inflight int) []Result {
	if count < 1 {
		count = 1
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if inflight <= 0 {
		inflight = DefaultInflight
	}
	inflight = min(inflight, maxInflight)

	results := make([]Result, len(probes))
	targets := make([]target, len(probes))
	var wants []socketWant
	index := map[socketWant]int{}
	for i, p := range probes {
		results[i].Probe = p
		dst, err := checkDst(p.Dst)
		if err != nil {
			results[i].Err = err
			continue
		}
		w := socketWant{ns: p.Src, v6: dst.Is6()}
		k, ok := index[w]
		if !ok {
			k = len(wants)
			index[w] = k
			wants = append(wants, w)
		}
		targets[i] = target{dst: dst, sock: k}
	}

	socks, errs := openSockets(ctx, wants)
	var readers sync.WaitGroup
	for _, s := range socks {
		if s != nil {
			readers.Go(s.readLoop)
		}
	}
	defer func() {
		for _, s := range socks {
			if s != nil {
				s.close()
			}
		}
		readers.Wait()
	}()

	slots := make(chan struct{}, inflight)
	var probing sync.WaitGroup
	for i := range probes {
		r := &results[i]
		if r.Err != nil {
			continue
		}
		k := targets[i].sock
		if errs[k] != nil {
			r.Err = errs[k]
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			r.Err = ctx.Err()
			continue
		}
		probing.Go(func() {
			defer func() { <-slots }()
			socks[k].probe(ctx, targets[i].dst, count, timeout, r)
		})
	}
	probing.Wait()
	return results
}

// target is a probe's destination, checked, and the index of its socket.
type target struct {
	dst  netip.Addr
	sock int
}

// checkDst returns the address to send to, or why dst cannot be pinged.
func checkDst(dst netip.Addr) (netip.Addr, error) {
	if !dst.IsValid() {
		return dst, errors.New("icmp: no destination address")
	}
	if dst.Is4In6() {
		return dst.Unmap(), nil
	}
	if dst.Is6() && dst.Zone() == "" && (dst.IsLinkLocalUnicast() || dst.IsLinkLocalMulticast() || dst.IsInterfaceLocalMulticast()) {
		return dst, fmt.Errorf("icmp: link-local destination %s needs a zone, such as %s%%eth0", dst, dst)
	}
	return dst, nil
}
