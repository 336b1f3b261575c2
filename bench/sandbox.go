package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// job is one run of one builder at one size, handed to the sandbox child.
type job struct {
	Builder  string
	N        int
	Up, Down []string
	Env      []string
	StateDir string
	Pings    int
	Quiet    time.Duration
	Verbose  bool
}

// stepTimeout bounds one build or teardown.
const stepTimeout = 10 * time.Minute

// sandboxMain runs inside the fresh network and mount namespaces: it makes
// the mounts, times the builder's two steps, verifies after each, and prints
// the result as JSON on stdout.
func sandboxMain(args []string) int {
	var j job
	if len(args) != 1 || json.Unmarshal([]byte(args[0]), &j) != nil {
		fmt.Fprintln(os.Stderr, "bench: bad sandbox arguments")
		return 2
	}
	res := result{Builder: j.Builder, N: j.N}
	if err := sandboxRun(j, &res); err != nil {
		res.Err = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(res)
	return 0
}

func sandboxRun(j job, res *result) error {
	// This process has its own mount namespace with private propagation
	// (see runJob), so these tmpfs mounts are invisible to the machine.
	if err := os.MkdirAll("/run/netns", 0o755); err != nil {
		return err
	}
	for _, dir := range []string{"/run/netns", j.StateDir} {
		if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "mode=755"); err != nil {
			return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
		}
	}
	if lo, err := netlink.LinkByName("lo"); err == nil {
		netlink.LinkSetUp(lo)
	}

	res.IdleBuild = waitQuiet(j.Quiet)
	d, kb, err := timed(j.Up, j.Env, j.Verbose)
	res.BuildS, res.BuildKB = d.Seconds(), kb
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	// Ping first: the lab must answer as soon as the builder returns.
	if res.PingRetry, err = pingSample(j.N, j.Pings); err != nil {
		if verr := verifyLab(j.N); verr != nil {
			err = verr // says better what is missing
		}
		return fmt.Errorf("verify build: %w", err)
	}
	if err := verifyLab(j.N); err != nil {
		return fmt.Errorf("verify build: %w", err)
	}

	res.IdleDown = waitQuiet(j.Quiet)
	d, kb, err = timed(j.Down, j.Env, j.Verbose)
	res.DownS, res.DownKB = d.Seconds(), kb
	if err != nil {
		return fmt.Errorf("teardown: %w", err)
	}
	if err := verifyGone(); err != nil {
		return fmt.Errorf("verify teardown: %w", err)
	}
	return nil
}

// timed runs argv and returns its wall time and peak resident set size
// (ru_maxrss from wait4: the largest single process among it and the
// children it waited for).
func timed(argv, env []string, verbose bool) (time.Duration, int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var out tail
	cmd.Stdout, cmd.Stderr = &out, &out
	if verbose {
		cmd.Stdout, cmd.Stderr = io.MultiWriter(&out, os.Stderr), io.MultiWriter(&out, os.Stderr)
	}
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	var kb int64
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			kb = ru.Maxrss
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %v", stepTimeout)
		}
		return d, kb, fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, out.String())
	}
	return d, kb, nil
}

// tail keeps the last few hundred bytes written to it.
type tail struct{ b []byte }

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 600 {
		t.b = t.b[len(t.b)-600:]
	}
	return len(p), nil
}

func (t *tail) String() string { return strings.TrimSpace(string(t.b)) }

// pingSample pings, from inside the lab, the bridge and a few namespaces
// from a few others. Each ping gets three tries; it returns how many tries
// beyond the first were needed.
func pingSample(n, count int) (int, error) {
	type pair struct {
		src int
		dst string
	}
	pairs := []pair{{1, bridgeAddr}, {n, bridgeAddr}}
	if n > 1 {
		pairs = append(pairs, pair{1, hostAddr(n)}, pair{n, hostAddr(1)}, pair{n / 2, hostAddr(1)})
	}
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	for len(pairs) < count && n > 1 {
		a, b := 1+rng.IntN(n), 1+rng.IntN(n)
		if a != b {
			pairs = append(pairs, pair{a, hostAddr(b)})
		}
	}
	if len(pairs) > count {
		pairs = pairs[:max(count, 1)]
	}
	retries := 0
	for _, p := range pairs {
		var err error
		for try := 0; try < 3; try++ {
			if try > 0 {
				retries++
			}
			var out []byte
			out, err = exec.Command("ip", "netns", "exec", fmt.Sprintf("h%d", p.src),
				"ping", "-c1", "-W1", "-q", p.dst).CombinedOutput()
			if err == nil {
				break
			}
			err = fmt.Errorf("h%d cannot ping %s: %v: %s", p.src, p.dst, err, bytes.TrimSpace(out))
		}
		if err != nil {
			return retries, err
		}
	}
	return retries, nil
}

// verifyLab checks the whole lab through netlink: /run/netns holds exactly
// h1..hN; br0 is up with 10.0.0.1/16 and N veth ports, all up; in every hI
// loopback is up, one other link is up with hostAddr(i)/16, and the default
// route goes via 10.0.0.1.
func verifyLab(n int) error {
	names, err := netnsNames()
	if err != nil {
		return err
	}
	if len(names) != n {
		return fmt.Errorf("/run/netns has %d entries, want %d", len(names), n)
	}
	for i := 1; i <= n; i++ {
		if !names["h"+strconv.Itoa(i)] {
			return fmt.Errorf("/run/netns/h%d missing", i)
		}
	}
	links, err := netlink.LinkList()
	if err != nil {
		return err
	}
	var br netlink.Link
	for _, l := range links {
		if l.Attrs().Name == bridgeName && l.Type() == "bridge" {
			br = l
		}
	}
	if br == nil {
		return fmt.Errorf("no bridge %s", bridgeName)
	}
	if br.Attrs().Flags&net.FlagUp == 0 {
		return fmt.Errorf("%s is down", bridgeName)
	}
	if err := hasAddr(netlink.AddrList, br, bridgeAddr); err != nil {
		return err
	}
	ports := 0
	for _, l := range links {
		if l.Type() != "veth" {
			continue
		}
		a := l.Attrs()
		if a.MasterIndex != br.Attrs().Index {
			return fmt.Errorf("veth %s in the root namespace is not a port of %s", a.Name, bridgeName)
		}
		if a.Flags&net.FlagUp == 0 {
			return fmt.Errorf("port %s is down", a.Name)
		}
		ports++
	}
	if ports != n {
		return fmt.Errorf("%s has %d veth ports, want %d", bridgeName, ports, n)
	}
	gw := net.ParseIP(bridgeAddr)
	for i := 1; i <= n; i++ {
		if err := verifyHost(i, gw); err != nil {
			return fmt.Errorf("h%d: %w", i, err)
		}
	}
	return nil
}

func verifyHost(i int, gw net.IP) error {
	ns, err := netns.GetFromPath(fmt.Sprintf("/run/netns/h%d", i))
	if err != nil {
		return err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Close()
	links, err := h.LinkList()
	if err != nil {
		return err
	}
	var end netlink.Link
	for _, l := range links {
		a := l.Attrs()
		switch {
		case a.Name == "lo":
			if a.Flags&net.FlagUp == 0 {
				return errors.New("loopback is down")
			}
		case l.Type() == "veth":
			if end != nil {
				return fmt.Errorf("two veths: %s, %s", end.Attrs().Name, a.Name)
			}
			end = l
		}
	}
	if end == nil {
		return errors.New("no veth")
	}
	if end.Attrs().Flags&net.FlagUp == 0 {
		return fmt.Errorf("%s is down", end.Attrs().Name)
	}
	if err := hasAddr(h.AddrList, end, hostAddr(i)); err != nil {
		return err
	}
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return err
	}
	for _, r := range routes {
		if (r.Dst == nil || r.Dst.IP.IsUnspecified()) && r.Gw.Equal(gw) {
			return nil
		}
	}
	return fmt.Errorf("no default route via %s", gw)
}

func hasAddr(list func(netlink.Link, int) ([]netlink.Addr, error), l netlink.Link, ip string) error {
	addrs, err := list(l, netlink.FAMILY_V4)
	if err != nil {
		return err
	}
	want := fmt.Sprintf("%s/%d", ip, prefixLen)
	for _, a := range addrs {
		if a.IPNet.String() == want {
			return nil
		}
	}
	return fmt.Errorf("%s lacks %s", l.Attrs().Name, want)
}

// verifyGone checks that nothing of the lab is left: no entry and no mount
// under /run/netns, no veth and no br0 in the root namespace.
func verifyGone() error {
	names, err := netnsNames()
	if err != nil {
		return err
	}
	if len(names) > 0 {
		return fmt.Errorf("/run/netns still has %d entries", len(names))
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	if c := bytes.Count(mounts, []byte(" /run/netns/")); c > 0 {
		return fmt.Errorf("%d mounts left under /run/netns", c)
	}
	links, err := netlink.LinkList()
	if err != nil {
		return err
	}
	veths := 0
	for _, l := range links {
		if l.Attrs().Name == bridgeName {
			return fmt.Errorf("%s still exists", bridgeName)
		}
		if l.Type() == "veth" {
			veths++
		}
	}
	if veths > 0 {
		return fmt.Errorf("%d veths left in the root namespace", veths)
	}
	return nil
}

func netnsNames() (map[string]bool, error) {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
	}
	return names, nil
}

// waitQuiet waits, at most limit, until the CPUs are calm: mostly idle, or
// at least free of the softirq and kernel work a previous lab leaves behind
// (namespaces being destroyed, a multicast storm on the bridge). Other
// people's user-space work on the machine does not hold it up for long. It
// returns the idle fraction of the last 250 ms.
func waitQuiet(limit time.Duration) float64 {
	deadline := time.Now().Add(limit)
	prev, ok := cpuTimes()
	if !ok {
		return 0
	}
	calm := 0
	for {
		time.Sleep(250 * time.Millisecond)
		cur, _ := cpuTimes()
		var d [10]float64
		total := 0.0
		for i := range cur {
			d[i] = float64(cur[i] - prev[i])
			total += d[i]
		}
		prev = cur
		if total == 0 {
			continue
		}
		idle := (d[3] + d[4]) / total
		sys, soft := d[2]/total, (d[5]+d[6])/total
		if idle >= 0.6 || (soft <= 0.03 && sys <= 0.3) {
			calm++
		} else {
			calm = 0
		}
		if calm >= 2 || time.Now().After(deadline) {
			return idle
		}
	}
}

// cpuTimes reads the aggregate line of /proc/stat: user nice system idle
// iowait irq softirq steal guest guest_nice.
func cpuTimes() ([10]uint64, bool) {
	var t [10]uint64
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return t, false
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	f := strings.Fields(string(line))
	for i := 1; i < len(f) && i <= 10; i++ {
		t[i-1], _ = strconv.ParseUint(f[i], 10, 64)
	}
	return t, true
}
