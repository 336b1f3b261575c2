package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// stateCmd is a testscript command that saves or compares a description
// of the sandbox's network made by describe:
//
//	NAME save FILE   write the description to FILE
//	NAME cmp FILE    fail unless the description equals the one in FILE
//
// The stories use two: snapshot (networkState: everything, to check that a
// lab left nothing behind) and labstate (labState: what two builds of one
// lab agree on).
func stateCmd(name string, describe func() (string, error)) func(*testscript.TestScript, bool, []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 || (args[0] != "save" && args[0] != "cmp") {
			ts.Fatalf("usage: %s save|cmp FILE", name)
		}
		state, err := describe()
		ts.Check(err)
		file := ts.MkAbs(args[1])
		if args[0] == "save" {
			ts.Check(os.WriteFile(file, []byte(state), 0o644))
			return
		}
		saved, err := os.ReadFile(file)
		ts.Check(err)
		if same := string(saved) == state; same == neg {
			ts.Logf("differences (- saved, + now):\n%s", diffLines(string(saved), state))
			if neg {
				ts.Fatalf("%s: network unchanged", name)
			}
			ts.Fatalf("%s: network differs from %s", name, args[1])
		}
	}
}

// networkState describes the sandbox's network exactly: every named
// namespace, and in the root namespace and each named one, links,
// addresses, routes, the nat table and forwarding.
func networkState() (string, error) {
	return describeNetwork(nil)
}

// labStateNoise is what differs between two builds of the same lab:
// interface indexes, MAC addresses, carrier and operational state, packet
// counters, and the group of its links in the host, which is derived from
// the lab's name.
var labStateNoise = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`^\d+: `), ""},
	{regexp.MustCompile(`@(if\d+|NONE)`), ""},
	{regexp.MustCompile(`link/ether \S+ brd \S+`), "link/ether"},
	{regexp.MustCompile(` link-netns(id)? \S+`), ""},
	{regexp.MustCompile(` state \S+`), ""},
	{regexp.MustCompile(` group \d+`), " group LAB"},
	{regexp.MustCompile(`,?(LOWER_UP|NO-CARRIER|M-DOWN)`), ""},
	{regexp.MustCompile(`<,`), "<"},
	{regexp.MustCompile(`\[\d+:\d+\]`), ""},
	{regexp.MustCompile(`\s+`), " "},
}

// labState describes the network as networkState does, less what differs
// between two builds of one lab (labStateNoise, IPv6 link-local addresses)
// and less the order in which links, addresses and routes were made.
func labState() (string, error) {
	return describeNetwork(func(lines []string) []string {
		var kept []string
		for _, l := range lines {
			if strings.Contains(l, "fe80:") {
				continue
			}
			for _, n := range labStateNoise {
				l = n.re.ReplaceAllString(l, n.with)
			}
			if l = strings.TrimSpace(l); l != "" {
				kept = append(kept, l)
			}
		}
		return kept
	})
}

// describeNetwork runs the commands that show the network, in the root
// namespace and each one in /run/netns. With clean, each command's output
// lines go through it, and links, addresses and routes are sorted, their
// order being how they were made; without, the output is kept as it is.
func describeNetwork(clean func([]string) []string) (string, error) {
	var b strings.Builder
	var failed error
	sh := func(cmd string, orderless bool) {
		out, err := exec.Command("sh", "-c", cmd).CombinedOutput()
		if err != nil && failed == nil {
			failed = fmt.Errorf("%s: %v\n%s", cmd, err, out)
		}
		if clean == nil {
			b.WriteString("$ " + cmd + "\n" + string(out))
			return
		}
		lines := clean(strings.Split(strings.TrimSpace(string(out)), "\n"))
		if orderless {
			slices.Sort(lines)
		}
		b.WriteString("$ " + cmd + "\n" + strings.Join(lines, "\n") + "\n")
	}
	sh("ls /run/netns", false)
	namespaces := []string{""}
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		namespaces = append(namespaces, e.Name())
	}
	for _, ns := range namespaces {
		in := ""
		if ns != "" {
			in = "ip netns exec " + ns + " "
		}
		sh(in+"ip -o link show | sed 's/link-netns [^ ]*//; s/link-netnsid [0-9]*//'", true)
		sh(in+"ip -o addr show", true)
		sh(in+"ip route show table all", true)
		sh(in+"ip -6 route show table all", true)
		sh(in+"iptables-save -t nat 2>/dev/null | grep -v '^[#:]' || true", false)
		sh(in+"cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding", false)
	}
	return b.String(), failed
}
