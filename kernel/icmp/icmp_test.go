package icmp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestChecksum(t *testing.T) {
	// RFC 1071's example bytes sum to 0xddf2, so the checksum is ^0xddf2.
	if got := checksum([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}); got != ^uint16(0xddf2) {
		t.Errorf("checksum = %#04x, want %#04x", got, ^uint16(0xddf2))
	}
	odd := []byte{1, 2, 3}
	if got, want := checksum(odd), ^uint16(0x0102+0x0300); got != want {
		t.Errorf("odd length: checksum = %#04x, want %#04x", got, want)
	}
}

// reply builds what a raw socket of s receives for an echo reply.
func reply(s *socket, typ byte, id, seq uint16, cookie []byte) []byte {
	msg := make([]byte, 8, 8+len(cookie))
	msg[0] = typ
	binary.BigEndian.PutUint16(msg[4:], id)
	binary.BigEndian.PutUint16(msg[6:], seq)
	msg = append(msg, cookie...)
	if s.v6 {
		return msg
	}
	binary.BigEndian.PutUint16(msg[2:], checksum(msg))
	hdr := make([]byte, 24) // with 4 bytes of options
	hdr[0] = 0x46
	return append(hdr, msg...)
}

func TestParse(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		s := &socket{v6: v6, id: 0x1234, cookie: [cookieLen]byte{1, 2, 3, 4, 5, 6, 7, 8}}
		typ, other := byte(echoReply4), byte(echoRequest4)
		if v6 {
			typ, other = echoReply6, echoRequest6
		}
		if seq, ok := s.parse(reply(s, typ, 0x1234, 77, s.cookie[:])); !ok || seq != 77 {
			t.Errorf("v6=%v: parse(reply) = %d, %v; want 77, true", v6, seq, ok)
		}
		bad := map[string][]byte{
			"request":      reply(s, other, 0x1234, 77, s.cookie[:]),
			"other id":     reply(s, typ, 0x4321, 77, s.cookie[:]),
			"other cookie": reply(s, typ, 0x1234, 77, []byte{8, 7, 6, 5, 4, 3, 2, 1}),
			"short":        reply(s, typ, 0x1234, 77, s.cookie[:4]),
			"empty":        {},
		}
		if !v6 {
			p := reply(s, typ, 0x1234, 77, s.cookie[:])
			p[len(p)-1] ^= 0xff
			bad["bad checksum"] = p
		}
		for name, pkt := range bad {
			if _, ok := s.parse(pkt); ok {
				t.Errorf("v6=%v: parse(%s) accepted", v6, name)
			}
		}
	}
}

func TestCheckDst(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"10.0.0.1", "10.0.0.1", true},
		{"::ffff:10.0.0.1", "10.0.0.1", true},
		{"fd00::1", "fd00::1", true},
		{"fe80::1%eth0", "fe80::1%eth0", true},
		{"fe80::1", "", false},
		{"ff02::1", "", false},
	} {
		got, err := checkDst(netip.MustParseAddr(c.in))
		if (err == nil) != c.ok || (c.ok && got.String() != c.want) {
			t.Errorf("checkDst(%s) = %v, %v; want %s, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
	if _, err := checkDst(netip.Addr{}); err == nil {
		t.Error("checkDst(zero Addr) accepted")
	}
}

func TestResultStats(t *testing.T) {
	r := Result{Received: 3, RTTs: []time.Duration{3, 1, 5}}
	if r.Min() != 1 || r.Max() != 5 || r.Avg() != 3 || !r.OK() {
		t.Errorf("min %v max %v avg %v ok %v; want 1 5 3 true", r.Min(), r.Max(), r.Avg(), r.OK())
	}
	var zero Result
	if zero.Min() != 0 || zero.Max() != 0 || zero.Avg() != 0 || zero.OK() {
		t.Errorf("zero Result: min %v max %v avg %v ok %v", zero.Min(), zero.Max(), zero.Avg(), zero.OK())
	}
}

func TestPingLoopback(t *testing.T) {
	needSandbox(t)
	for _, ns := range []string{"", "/proc/self/ns/net"} {
		for _, dst := range []string{"127.0.0.1", "::1", "::ffff:127.0.0.1"} {
			r, err := Ping(context.Background(), ns, netip.MustParseAddr(dst), 2, time.Second)
			if err != nil || r.Sent != 2 || r.Received != 2 || len(r.RTTs) != 2 || r.Min() <= 0 {
				t.Errorf("Ping(%q, %s) = %+v, %v; want 2 of 2 answered", ns, dst, r, err)
			}
		}
	}
}

func TestPing(t *testing.T) {
	needSandbox(t)
	l := newLab(t, "p", 3, false)
	ctx := context.Background()
	for _, v6 := range []bool{false, true} {
		addr, fam := l.v4, "ipv4"
		unreachable := netip.MustParseAddr("10.0.0.200")
		if v6 {
			addr, fam = l.v6, "ipv6"
			unreachable = netip.MustParseAddr("fd00::c8")
		}
		t.Run(fam, func(t *testing.T) {
			t.Run("reply", func(t *testing.T) {
				r, err := Ping(ctx, l.path(1), addr(2), 3, time.Second)
				if err != nil || r.Sent != 3 || r.Received != 3 || len(r.RTTs) != 3 || r.Min() <= 0 || r.Max() > time.Second {
					t.Errorf("Ping(1 → 2) = %+v, %v; want 3 of 3 answered", r, err)
				}
				t.Logf("rtt min %v avg %v max %v", r.Min(), r.Avg(), r.Max())
			})
			t.Run("own address", func(t *testing.T) {
				r, err := Ping(ctx, l.path(1), addr(1), 1, time.Second)
				if err != nil || r.Received != 1 {
					t.Errorf("Ping(1 → 1) = %+v, %v; want answered", r, err)
				}
			})
			t.Run("unreachable address", func(t *testing.T) {
				const timeout = 300 * time.Millisecond
				start := time.Now()
				r, err := Ping(ctx, l.path(1), unreachable, 2, timeout)
				took := time.Since(start)
				if err != nil || r.Sent != 2 || r.Received != 0 {
					t.Errorf("Ping(1 → %s) = %+v, %v; want 0 of 2 answered, no error", unreachable, r, err)
				}
				if took < 2*timeout || took > 2*timeout+500*time.Millisecond {
					t.Errorf("took %v; want 2 × %v", took, timeout)
				}
			})
			t.Run("isolated namespace", func(t *testing.T) {
				r, err := Ping(ctx, l.path(0), addr(2), 1, 300*time.Millisecond)
				if err != nil || r.Sent != 1 || r.Received != 0 || !errors.Is(r.SendErr, syscall.ENETUNREACH) {
					t.Errorf("Ping(iso → 2) = %+v, %v; want lost with ENETUNREACH", r, err)
				}
			})
			t.Run("firewall", func(t *testing.T) {
				if !l.drop(t, 3, v6) {
					t.Skip("no iptables here")
				}
				r, err := Ping(ctx, l.path(1), addr(3), 1, 300*time.Millisecond)
				if err != nil || r.Sent != 1 || r.Received != 0 {
					t.Errorf("Ping(1 → 3 behind DROP) = %+v, %v; want 0 of 1 answered", r, err)
				}
			})
		})
	}
	t.Run("link-local", func(t *testing.T) {
		r, err := Ping(ctx, l.path(1), netip.MustParseAddr("fe80::2%eth0"), 1, time.Second)
		if err != nil || r.Received != 1 {
			t.Errorf("Ping(1 → fe80::2%%eth0) = %+v, %v; want answered", r, err)
		}
	})
	t.Run("errors", func(t *testing.T) {
		regular := filepath.Join(t.TempDir(), "not-a-netns")
		os.WriteFile(regular, nil, 0o644)
		for _, c := range []struct {
			ns, dst string
		}{
			{"/run/netns/no-such-namespace", "10.0.0.2"},
			{regular, "10.0.0.2"},
			{l.path(1), "fe80::2"},
			{l.path(1), "fe80::2%no-such-link"},
		} {
			r, err := Ping(ctx, c.ns, netip.MustParseAddr(c.dst), 1, 100*time.Millisecond)
			if err == nil || r.Err != err {
				t.Errorf("Ping(%s, %s) = %+v, %v; want an error", c.ns, c.dst, r, err)
			} else {
				t.Logf("Ping(%s, %s): %v", c.ns, c.dst, err)
			}
		}
		if _, err := Ping(ctx, l.path(1), netip.Addr{}, 1, 100*time.Millisecond); err == nil {
			t.Error("Ping to the zero Addr: no error")
		}
	})
}

func TestMatrix(t *testing.T) {
	needSandbox(t)
	const n = 5
	l := newLab(t, "m", n, false)
	// Namespace 3 drops IPv4 echo requests, namespace 4 IPv6 ones.
	dropped := map[[2]int]bool{}
	if l.drop(t, 3, false) {
		dropped[[2]int{3, 4}] = true
	}
	if l.drop(t, 4, true) {
		dropped[[2]int{4, 6}] = true
	}

	var probes []Probe
	want := map[int]bool{} // probe index → answered
	for src := 0; src <= n; src++ {
		for dst := 1; dst <= n+1; dst++ { // n+1 does not exist
			for _, fam := range []int{4, 6} {
				p := Probe{Src: l.path(src), Dst: l.v4(dst)}
				if fam == 6 {
					p.Dst = l.v6(dst)
				}
				want[len(probes)] = src != 0 && dst <= n && !dropped[[2]int{dst, fam}]
				probes = append(probes, p)
			}
		}
	}
	bad := len(probes)
	probes = append(probes, Probe{Src: "/run/netns/no-such-namespace", Dst: l.v4(1)})

	const count, timeout = 2, 400 * time.Millisecond
	start := time.Now()
	results := Matrix(context.Background(), probes, count, timeout, 16)
	t.Logf("%d probes in %v", len(probes), time.Since(start))

	if len(results) != len(probes) {
		t.Fatalf("got %d results for %d probes", len(results), len(probes))
	}
	var missed, unexpected []string
	for i, r := range results {
		if r.Probe != probes[i] {
			t.Errorf("result %d is for %+v, want %+v", i, r.Probe, probes[i])
		}
		if i == bad {
			if r.Err == nil {
				t.Errorf("probe from a missing namespace: %+v, want an error", r)
			}
			continue
		}
		if r.Err != nil || r.Sent != count {
			t.Errorf("%s → %s: sent %d, err %v; want %d sent, no error", r.Src, r.Dst, r.Sent, r.Err, count)
		}
		switch {
		case want[i] && r.Received != count:
			missed = append(missed, fmt.Sprintf("%s → %s (%d of %d)", r.Src, r.Dst, r.Received, r.Sent))
		case !want[i] && r.Received != 0:
			unexpected = append(unexpected, fmt.Sprintf("%s → %s", r.Src, r.Dst))
		}
	}
	if len(missed)+len(unexpected) > 0 {
		t.Errorf("pairs not answered that should be: %v\npairs answered that should not be: %v", missed, unexpected)
	}
	checkThreads(t)
}

// checkThreads fails t if a thread of the process is not in the network
// namespace the process started in.
func checkThreads(t *testing.T) {
	t.Helper()
	start, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	tasks, _ := filepath.Glob("/proc/self/task/*/ns/net")
	for _, task := range tasks {
		if ns, err := os.Readlink(task); err == nil && ns != start {
			t.Errorf("%s is %s, not %s", task, ns, start)
		}
	}
}

func TestConcurrentSameNamespace(t *testing.T) {
	needSandbox(t)
	l := newLab(t, "s", 2, false)
	var wg sync.WaitGroup
	results := make([]Result, 6)
	for i := range results {
		dst := l.v4(2)
		if i%2 == 1 {
			dst = l.v6(2)
		}
		wg.Go(func() {
			results[i], _ = Ping(context.Background(), l.path(1), dst, 20, time.Second)
		})
	}
	wg.Wait()
	for i, r := range results {
		if r.Err != nil || r.Sent != 20 || r.Received != 20 {
			t.Errorf("ping %d: %+v; want 20 of 20 answered", i, r)
		}
	}
}

func TestCancel(t *testing.T) {
	needSandbox(t)
	l := newLab(t, "c", 2, false)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	r, err := Ping(ctx, l.path(1), netip.MustParseAddr("10.0.0.200"), 5, 5*time.Second)
	if took := time.Since(start); took > time.Second {
		t.Errorf("cancelled Ping took %v", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || r.Sent != 1 || r.Received != 0 {
		t.Errorf("cancelled Ping = %+v, %v; want 1 sent, DeadlineExceeded", r, err)
	}

	// Probes not started when the context ends report it too.
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	probes := slices.Repeat([]Probe{{Src: l.path(1), Dst: netip.MustParseAddr("10.0.0.200")}}, 10)
	start = time.Now()
	results := Matrix(ctx, probes, 1, 5*time.Second, 2)
	if took := time.Since(start); took > time.Second {
		t.Errorf("cancelled Matrix took %v", took)
	}
	for i, r := range results {
		if !errors.Is(r.Err, context.DeadlineExceeded) || r.Received != 0 {
			t.Errorf("probe %d: %+v; want DeadlineExceeded", i, r)
		}
	}
}

// TestFilter checks the kernel-side filters: a socket receives its own echo
// replies and nothing else, not even the ICMP of another socket pinging the
// same address, nor the echo requests it sends to itself over loopback.
func TestFilter(t *testing.T) {
	needSandbox(t)
	for _, dst := range []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")} {
		socks, errs := openSockets(context.Background(), []socketWant{{ns: "", v6: dst.Is6()}})
		if errs[0] != nil {
			t.Fatal(errs[0])
		}
		s := socks[0]
		defer s.close()
		queued := func() int {
			n := 0
			buf := make([]byte, 1500)
			s.conn.Control(func(fd uintptr) {
				for {
					if _, _, err := unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT); err != nil {
						return
					}
					n++
				}
			})
			return n
		}

		if r, err := Ping(context.Background(), "", dst, 5, time.Second); err != nil || r.Received != 5 {
			t.Fatalf("Ping(%s) = %+v, %v", dst, r, err)
		}
		if n := queued(); n != 0 {
			t.Errorf("%s: a socket received %d packets of another one's pings; want 0", dst, n)
		}

		sa, err := s.sockaddr(dst)
		if err != nil {
			t.Fatal(err)
		}
		seq, _ := s.expect(dst)
		if err := s.send(seq, sa); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // no reader: the reply stays queued
		if n := queued(); n != 1 {
			t.Errorf("%s: a socket pinging itself received %d packets; want its 1 reply", dst, n)
		}
	}
}
