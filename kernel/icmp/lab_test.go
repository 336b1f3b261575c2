package icmp

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"nsscript/sandbox"
)

// TestMain runs the tests, as root, in a sandbox (package sandbox): private
// network and mount namespaces with their own /run, so nothing a test does
// can reach the host's interfaces, routes or firewall. The sandbox refuses
// to set itself up anywhere but in namespaces of its own. Not root, the
// kernel tests skip.
func TestMain(m *testing.M) {
	os.Exit(sandbox.Run(m.Run))
}

// needSandbox skips t unless it runs as root in the sandbox.
func needSandbox(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("kernel test: needs root (raw sockets, network namespaces); run go test as root")
	}
	if !sandbox.Inside() {
		t.Fatal("kernel test outside the sandbox TestMain sets up")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("kernel test: needs the ip command (iproute2) to build its lab")
	}
}

// ip runs `ip [-n ns] -batch -` with lines as its input; ns "" is the
// sandbox's own namespace.
func ip(t testing.TB, ns string, lines ...string) {
	t.Helper()
	args := []string{"-batch", "-"}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	cmd := exec.Command("ip", args...)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s\ninput:\n%s", strings.Join(args, " "), err, out, strings.Join(lines, "\n"))
	}
}

// nsExec runs a command inside named namespace ns.
func nsExec(ns string, cmd ...string) ([]byte, error) {
	var out bytes.Buffer
	c := exec.Command("ip", append([]string{"netns", "exec", ns}, cmd...)...)
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	return out.Bytes(), err
}

// lab is a test topology: namespaces P1…Pn on bridge Pbr, namespace i with
// eth0 holding MAC address 02:00:00:00:ii:ii, 10.0.0.i/16, fd00::i/64 and
// fe80::i/64 (no DAD, so usable at once), plus namespace Piso with only
// loopback.
type lab struct {
	prefix string
	n      int
}

// newLab builds a lab of n namespaces named after prefix and removes it when
// t ends. With static, every namespace gets permanent neighbour entries for
// all the others instead of resolving them with ARP and NDP: the kernel's
// neighbour tables are shared by all namespaces (the host's included) and
// hold only 1024 dynamic entries by default, fewer than a full mesh of more
// than about 32 namespaces needs.
func newLab(t testing.TB, prefix string, n int, static bool) *lab {
	t.Helper()
	l := &lab{prefix: prefix, n: n}
	var netns, links, down []string
	netns = append(netns, "netns add "+l.name(0))
	links = append(links, "link add "+l.bridge()+" type bridge", "link set "+l.bridge()+" up")
	for i := 1; i <= n; i++ {
		netns = append(netns, "netns add "+l.name(i))
		links = append(links,
			fmt.Sprintf("link add %sv type veth peer name eth0 address %s netns %s", l.name(i), l.mac(i), l.name(i)),
			fmt.Sprintf("link set %sv master %s up", l.name(i), l.bridge()))
		down = append(down, fmt.Sprintf("link del %sv", l.name(i)))
	}
	down = append(down, "link del "+l.bridge())
	for i := 0; i <= n; i++ {
		down = append(down, "netns del "+l.name(i))
	}
	t.Cleanup(func() {
		cmd := exec.Command("ip", "-force", "-batch", "-")
		cmd.Stdin = strings.NewReader(strings.Join(down, "\n") + "\n")
		cmd.Run()
	})
	ip(t, "", netns...)
	ip(t, "", links...)
	ip(t, l.name(0), "link set lo up")

	// Configure the namespaces a few at a time.
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 4)
	for i := 1; i <= n; i++ {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			lines := []string{
				"link set lo up",
				fmt.Sprintf("addr add %s/16 dev eth0", l.v4(i)),
				fmt.Sprintf("addr add %s/64 dev eth0 nodad", l.v6(i)),
				fmt.Sprintf("addr add fe80::%x/64 dev eth0 nodad", i),
				"link set eth0 up",
			}
			for j := 1; static && j <= n; j++ {
				if j != i {
					lines = append(lines,
						fmt.Sprintf("neigh replace %s lladdr %s dev eth0 nud permanent", l.v4(j), l.mac(j)),
						fmt.Sprintf("neigh replace %s lladdr %s dev eth0 nud permanent", l.v6(j), l.mac(j)))
				}
			}
			in := strings.Join(lines, "\n") + "\n"
			cmd := exec.Command("ip", "-n", l.name(i), "-batch", "-")
			cmd.Stdin = strings.NewReader(in)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("configuring %s: %v: %s", l.name(i), err, out)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return l
}

// name returns the name of namespace i; 0 is the isolated one.
func (l *lab) name(i int) string {
	if i == 0 {
		return l.prefix + "iso"
	}
	return fmt.Sprint(l.prefix, i)
}

// path returns the namespace file of namespace i.
func (l *lab) path(i int) string { return "/run/netns/" + l.name(i) }

func (l *lab) bridge() string { return l.prefix + "br" }

// mac returns the MAC address of namespace i's eth0.
func (l *lab) mac(i int) string { return fmt.Sprintf("02:00:00:00:%02x:%02x", i>>8, i&0xff) }

// v4 and v6 return the addresses of namespace i.
func (l *lab) v4(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}) }
func (l *lab) v6(i int) netip.Addr {
	return netip.AddrFrom16([16]byte{0: 0xfd, 14: byte(i >> 8), 15: byte(i)})
}

// drop makes namespace i drop the echo requests of one family with
// iptables or ip6tables; it reports false, and logs why, when it cannot here.
func (l *lab) drop(t *testing.T, i int, v6 bool) bool {
	t.Helper()
	cmd := []string{"iptables", "-A", "INPUT", "-p", "icmp", "--icmp-type", "echo-request", "-j", "DROP"}
	if v6 {
		cmd = []string{"ip6tables", "-A", "INPUT", "-p", "ipv6-icmp", "--icmpv6-type", "echo-request", "-j", "DROP"}
	}
	if _, err := exec.LookPath(cmd[0]); err != nil {
		t.Logf("%s not installed: no firewall case", cmd[0])
		return false
	}
	if out, err := nsExec(l.name(i), cmd...); err != nil {
		t.Logf("no firewall case: %s: %v: %s", strings.Join(cmd, " "), err, out)
		return false
	}
	return true
}
