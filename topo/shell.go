package topo

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"unicode"
)

// This file renders a lab as a POSIX sh script of ip(8), iptables(8) and
// sysctl(8) commands that, run as root on a clean machine, builds the same
// lab. It is what `nsscript run --dry-run` prints. The commands come in the
// order the kernel layer applies a lab, so the script and the live lab
// agree step by step.

// ShellHeader returns the lines that start a script building the lab named
// name: the interpreter line, a comment naming the lab, and `set -e` so the
// script stops at the first failing command.
func ShellHeader(name string) string {
	switch {
	case name == "":
		name = "(unnamed)"
	case strings.ContainsFunc(name, unicode.IsControl):
		name = strconv.Quote(name) // a newline would end the comment
	}
	return "#!/bin/sh\n" +
		"# nsscript lab " + name + ", as printed by `nsscript run --dry-run`.\n" +
		"# Run it as root on a clean machine to build the same lab by hand.\n" +
		"set -e\n"
}

// WriteShell writes the commands that build l, grouped in commented
// sections and separated by blank lines, in the order the kernel layer
// applies them. A lab made by Since refers to earlier resources by name
// only, so its commands continue the script of the resources before it.
func (l *Lab) WriteShell(w io.Writer) error {
	var s shellScript
	l.shell(&s)
	_, err := io.WriteString(w, s.b.String())
	return err
}

// ShellCommands returns the commands that build l, each as the argv of one
// command, in the order WriteShell prints them.
func (l *Lab) ShellCommands() [][]string {
	var s shellScript
	l.shell(&s)
	return s.cmds
}

func (l *Lab) shell(s *shellScript) {
	s.section("namespaces")
	for _, n := range l.Netns {
		s.cmd("ip", "netns", "add", n.Name)
		s.cmd(ipIn(n.Name, "link", "set", "lo", "up")...)
	}

	// Bridges are created down and brought up once their ports exist.
	s.section("bridges")
	group := func(ns string) []string {
		if ns != Host {
			return nil
		}
		return []string{"group", strconv.FormatUint(uint64(LinkGroup(l.Name)), 10)}
	}
	for _, b := range l.Bridges {
		args := []string{"link", "add", b.Name}
		args = append(args, macArgs(b.MAC)...)
		args = append(args, mtuArgs(b.MTU)...)
		args = append(args, group(b.NS)...)
		s.cmd(ipIn(b.NS, append(args, "type", "bridge")...)...)
	}

	// Each end is born in its namespace rather than moved there, so the
	// names only need to be free where they end up.
	s.section("veth pairs")
	queueArgs := []string{"numtxqueues", strconv.Itoa(VethQueues), "numrxqueues", strconv.Itoa(VethQueues)}
	for _, v := range l.Veths {
		args := []string{"ip", "link", "add", v.A.Name}
		args = append(args, macArgs(v.A.MAC)...)
		args = append(args, mtuArgs(v.MTU)...)
		args = append(args, queueArgs...)
		args = append(args, group(v.A.NS)...)
		args = append(args, netnsArgs(v.A.NS)...)
		args = append(args, "type", "veth", "peer", "name", v.B.Name)
		args = append(args, macArgs(v.B.MAC)...)
		args = append(args, mtuArgs(v.MTU)...)
		args = append(args, queueArgs...)
		args = append(args, group(v.B.NS)...)
		args = append(args, netnsArgs(v.B.NS)...)
		s.cmd(args...)
		for _, e := range []End{v.A, v.B} {
			if e.Master != "" {
				s.cmd(ipIn(e.NS, "link", "set", e.Name, "master", e.Master)...)
			}
		}
	}

	// Sysctls come before addresses: some (disable_ipv6, accept_dad)
	// decide what adding an address does.
	s.section("sysctls")
	for _, c := range l.Sysctls {
		s.cmd(execIn(c.NS, "sysctl", "-qw", c.Key+"="+c.Value)...)
	}

	// IPv4 addresses get their subnet's broadcast address, as nsscript
	// gives them; IPv6 addresses skip duplicate address detection, so they
	// are usable as soon as the script ends, as they are after `nsscript
	// run`.
	s.section("addresses")
	for _, a := range l.Addrs {
		args := []string{"addr", "add", a.Prefix.String()}
		if a.Prefix.Addr().Is4() && a.Prefix.Bits() < 31 {
			args = append(args, "brd", "+")
		}
		args = append(args, "dev", a.Dev)
		if a.Prefix.Addr().Is6() {
			args = append(args, "nodad")
		}
		s.cmd(ipIn(a.NS, args...)...)
	}

	s.section("links up")
	for _, v := range l.Veths {
		s.cmd(ipIn(v.A.NS, "link", "set", v.A.Name, "up")...)
		s.cmd(ipIn(v.B.NS, "link", "set", v.B.Name, "up")...)
	}
	for _, b := range l.Bridges {
		s.cmd(ipIn(b.NS, "link", "set", b.Name, "up")...)
	}

	// Permanent entries come once their links are up: bringing a link
	// down flushes its neighbour entries, permanent ones included.
	s.section("neighbours")
	for _, n := range l.Neighbors {
		s.cmd(ipIn(n.NS, "neigh", "replace", n.Addr.String(), "lladdr", n.MAC.String(), "dev", n.Dev, "nud", "permanent")...)
	}

	s.section("routes")
	for _, r := range l.Routes {
		dst := r.Dst.String()
		if r.Dst.Bits() == 0 {
			dst = "default"
		}
		args := []string{"route", "add", dst}
		if r.Via.IsValid() {
			args = append(args, "via", r.Via.String())
		}
		if r.Dev != "" {
			args = append(args, "dev", r.Dev)
		}
		if r.Metric != 0 {
			args = append(args, "metric", strconv.Itoa(r.Metric))
		}
		cmd := ipIn(r.NS, args...)
		if r.Dst.Addr().Is6() {
			cmd = append([]string{"ip", "-6"}, cmd[1:]...)
		}
		s.cmd(cmd...)
	}

	s.section("masquerade")
	comment := RuleComment(l.Name)
	forwarding := map[string]bool{}
	for _, m := range l.Masquerades {
		if !forwarding[m.NS] {
			forwarding[m.NS] = true
			s.cmd(execIn(m.NS, "sysctl", "-qw", "net.ipv4.ip_forward=1")...)
		}
		args := []string{"iptables", "-t", "nat", "-A", "POSTROUTING", "-s", m.Src.String()}
		if m.Out != "" {
			args = append(args, "-o", m.Out)
		}
		args = append(args, "-m", "comment", "--comment", comment, "-j", "MASQUERADE")
		s.cmd(execIn(m.NS, args...)...)
	}
}

// ipIn is the ip(8) command args run in namespace ns.
func ipIn(ns string, args ...string) []string {
	if ns == Host {
		return append([]string{"ip"}, args...)
	}
	return append([]string{"ip", "-n", ns}, args...)
}

// execIn is the command argv run in namespace ns.
func execIn(ns string, argv ...string) []string {
	if ns == Host {
		return argv
	}
	return append([]string{"ip", "netns", "exec", ns}, argv...)
}

// ExecLine returns the shell line that runs argv in namespace ns, as the
// dry run prints a script's exec() calls. A command run through
// `/bin/sh -c SCRIPT` is printed as SCRIPT itself when SCRIPT is a plain
// list of words, so `exec(red, "ping -c 1 10.0.2.0")` reads as
// `ip netns exec red ping -c 1 10.0.2.0`.
func ExecLine(ns string, argv []string) string {
	if len(argv) == 3 && (argv[0] == "/bin/sh" || argv[0] == "sh") && argv[1] == "-c" && plainWords(argv[2]) {
		words := strings.Fields(argv[2])
		if ns == Host {
			return strings.Join(words, " ")
		}
		return ShellLine(execIn(ns)...) + " " + strings.Join(words, " ")
	}
	return ShellLine(execIn(ns, argv...)...)
}

func plainWords(script string) bool {
	if strings.TrimSpace(script) == "" {
		return false
	}
	for i, f := range strings.Fields(script) {
		// A first word with '=' is an assignment to sh, not a command.
		if !safeWord(f) || i == 0 && strings.Contains(f, "=") {
			return false
		}
	}
	return !strings.ContainsAny(script, "\n\r")
}

func netnsArgs(ns string) []string {
	if ns == Host {
		return nil
	}
	return []string{"netns", ns}
}

func macArgs(mac net.HardwareAddr) []string {
	if mac == nil {
		return nil
	}
	return []string{"address", mac.String()}
}

func mtuArgs(mtu int) []string {
	if mtu == 0 {
		return nil
	}
	return []string{"mtu", strconv.Itoa(mtu)}
}

// ShellLine joins argv into one line of sh, quoting each word as needed.
func ShellLine(argv ...string) string {
	q := make([]string, len(argv))
	for i, w := range argv {
		q[i] = ShellQuote(w)
		if i == 0 && q[i] == w && strings.Contains(w, "=") {
			q[i] = "'" + w + "'" // not an assignment: a command named w
		}
	}
	return strings.Join(q, " ")
}

// ShellQuote returns word as sh reads it back unchanged: as it is when it
// holds only characters sh gives no meaning to, otherwise in single quotes.
func ShellQuote(word string) string {
	if safeWord(word) {
		return word
	}
	return "'" + strings.ReplaceAll(word, "'", `'\''`) + "'"
}

func safeWord(w string) bool {
	if w == "" {
		return false
	}
	for _, r := range w {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		case strings.ContainsRune("-_./:,+=@%", r):
		default:
			return false
		}
	}
	return true
}

// shellScript collects commands, printing a section's comment before its
// first command so empty sections leave no trace.
type shellScript struct {
	b       strings.Builder
	cmds    [][]string
	pending string
}

func (s *shellScript) section(title string) { s.pending = title }

func (s *shellScript) cmd(argv ...string) {
	if s.pending != "" {
		fmt.Fprintf(&s.b, "\n# %s\n", s.pending)
		s.pending = ""
	}
	s.cmds = append(s.cmds, argv)
	s.b.WriteString(ShellLine(argv...))
	s.b.WriteByte('\n')
}
