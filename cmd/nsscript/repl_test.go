package main

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdLabState saves or compares the state of the labs in the sandbox, as
// two builds of one lab should agree on it:
//
//	labstate save NAME   write the state to the file NAME
//	labstate cmp NAME    fail unless the state equals the one saved in NAME
//
// Unlike snapshot, it leaves out what differs between two builds of the
// same lab: interface indexes, MAC addresses and what derives from them
// (IPv6 link-local addresses), carrier and operational state, packet
// counters, and the order in which links, addresses and routes were made.
func cmdLabState(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || (args[0] != "save" && args[0] != "cmp") {
		ts.Fatalf("usage: labstate save|cmp NAME")
	}
	state, err := labState()
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
			ts.Fatalf("lab state unchanged")
		}
		ts.Fatalf("lab state differs from %s", args[1])
	}
}

var labStateNoise = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`^\d+: `), ""},
	{regexp.MustCompile(`@(if\d+|NONE)`), ""},
	{regexp.MustCompile(`link/ether \S+ brd \S+`), "link/ether"},
	{regexp.MustCompile(` link-netns(id)? \S+`), ""},
	{regexp.MustCompile(` state \S+`), ""},
	{regexp.MustCompile(`,?(LOWER_UP|NO-CARRIER|M-DOWN)`), ""},
	{regexp.MustCompile(`<,`), "<"},
	{regexp.MustCompile(`\[\d+:\d+\]`), ""},
	{regexp.MustCompile(`\s+`), " "},
}

// labState describes the namespaces in /run/netns and, in the host and
// each of them, links, addresses, routes, the nat table and forwarding.
func labState() (string, error) {
	var b strings.Builder
	var failed error
	sh := func(cmd string, sorted bool) {
		out, err := exec.Command("sh", "-c", cmd).CombinedOutput()
		if err != nil && failed == nil {
			failed = err
		}
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if strings.Contains(l, "fe80:") {
				continue // link-local: derived from the MAC address
			}
			for _, n := range labStateNoise {
				l = n.re.ReplaceAllString(l, n.with)
			}
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		if sorted {
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
		sh(in+"ip -o link show", true)
		sh(in+"ip -o addr show", true)
		sh(in+"ip route show table all", true)
		sh(in+"ip -6 route show table all", true)
		sh(in+"iptables-save -t nat 2>/dev/null | grep -v '^[#:]' || true", false)
		sh(in+"cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding", false)
	}
	return b.String(), failed
}
