package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"nsscript/sandbox"
)

// describeLab prints, from inside a sandbox, what a lab looks like with
// everything the kernel picks by itself (indexes, netns ids) left out, so
// that two builds of one lab compare equal. MAC addresses, and the
// link-local addresses derived from them, are the lab's own and stay in
// (whether duplicate address detection is still going on does not: the
// printed script leaves it on); so do permanent neighbour entries and the
// veth ends' queue counts.
const describeLab = `
for ns in "" $(ls /run/netns); do
	echo "== namespace ${ns:-host}"
	in=""; [ -n "$ns" ] && in="ip netns exec $ns"
	$in ip -o link show | sed -E 's/^[0-9]+: //; s/@[^:]+:/:/; s/link-netns(id)? [^ ]+//g; s/ alias [^\\]*//g; s/[\\]//g; s/ +/ /g; s/ $//' | sort
	$in ip -d -o link show | sed -nE 's/^[0-9]+: ([^:@]+).* numtxqueues ([0-9]+) numrxqueues ([0-9]+).*/\1 queues \2 \3/p' | sort
	$in ip -o addr show | sed -E 's/^[0-9]+: //; s/valid_lft.*//; s/ tentative//; s/ +/ /g' | sort
	$in ip neigh show nud permanent | sort
	$in ip route show table main | sort
	$in ip -6 route show table main | grep -v '^fe80::\|^multicast' | sort
	$in iptables -t nat -S
	cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding
done
`

// inSandbox runs the shell script in fresh network and mount namespaces of
// its own, below the test's sandbox, and returns what it prints.
func inSandbox(t *testing.T, script string) string {
	t.Helper()
	cmd := exec.Command("unshare", "--net", "--mount", "--propagation", "private", "sh", "-euc",
		"mount -t tmpfs tmpfs /run; mkdir /run/netns; "+script)
	cmd.Env = append(os.Environ(), "NSSCRIPT_TEST_MAIN=1", "NSSCRIPT_STATE_DIR=/run/nsscript")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return string(out)
}

// TestDryRunBuildsSameLab runs the --dry-run script of every example in one
// sandbox and nsscript itself in another, and compares the two networks.
func TestDryRunBuildsSameLab(t *testing.T) {
	if !sandbox.Inside() {
		t.Skip("runs the printed scripts: needs root, runs inside a private network namespace")
	}
	var examples []string
	all, _ := filepath.Glob("../../scripts/*.star")
	for _, f := range all {
		// Test labs check the network as they go (expect_reach), which
		// their printed scripts do with ping right after the links come
		// up; the labs they check are among the examples anyway.
		if !strings.HasSuffix(f, "_test.star") {
			examples = append(examples, f)
		}
	}
	if len(examples) == 0 {
		t.Fatal("no examples in scripts/")
	}
	self := os.Args[0]
	for _, example := range examples {
		t.Run(filepath.Base(example), func(t *testing.T) {
			shell := filepath.Join(t.TempDir(), "lab.sh")
			out, err := nsscript(t, "run", "--dry-run", example).Output()
			if err != nil {
				t.Fatalf("--dry-run: %v", err)
			}
			if err := os.WriteFile(shell, out, 0o755); err != nil {
				t.Fatal(err)
			}
			// The kernel settles a link's carrier a moment after it is set
			// up; nsscript waits for that, the printed script does not.
			byShell := inSandbox(t, "sh "+shell+" >/dev/null; sleep 1.5; "+describeLab)
			byNsscript := inSandbox(t, self+" run "+example+" >/dev/null 2>&1; "+describeLab)
			if byShell != byNsscript {
				t.Errorf("the --dry-run script builds another lab than nsscript run:\n%s", diffLines(byShell, byNsscript))
			}
			t.Logf("%s", byNsscript)
		})
	}
}
