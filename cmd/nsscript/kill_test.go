package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"nsscript/sandbox"
)

// nsscript returns a command that runs this test binary as nsscript.
func nsscript(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "NSSCRIPT_TEST_MAIN=1")
	return cmd
}

// TestDownAfterKill kills `nsscript run` with SIGKILL at moments spread over
// its apply, and checks each time that `nsscript down` leaves the network
// exactly as it was before the run.
func TestDownAfterKill(t *testing.T) {
	if !sandbox.Inside() {
		t.Skip("kills a run that builds a lab: needs root, runs inside a private network namespace")
	}
	dir := t.TempDir()
	t.Setenv("NSSCRIPT_STATE_DIR", filepath.Join(dir, "state"))
	script := filepath.Join(dir, "big.star")
	const lab = `
n = 60
br = bridge("kbr0", addr="10.9.0.1/16")
world = netns("kworld")
veth(host, world, name="k-world", peer="eth0", addr="10.10.0.1/24", peer_addr="10.10.0.2/24")
masquerade("10.9.0.0/16")
sysctl(host, "net.ipv4.conf.all.rp_filter", 2)
for i in range(1, n + 1):
    ns = netns("k%d" % i)
    veth(ns, br, addr="10.9.%d.%d/16" % (i // 250, i % 250 + 1))
    veth(ns, world, addr="fd00:%x::1/64" % i, peer_addr="fd00:%x::2/64" % i)
    route(ns, "default", via="10.9.0.1")
`
	if err := os.WriteFile(script, []byte(lab), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := networkState()
	if err != nil {
		t.Fatal(err)
	}

	// How long a whole run takes here, to spread the kills over it.
	start := time.Now()
	if out, err := nsscript(t, "run", script).CombinedOutput(); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	full := time.Since(start)
	if out, err := nsscript(t, "down", "big").CombinedOutput(); err != nil {
		t.Fatalf("down: %v\n%s", err, out)
	}
	t.Logf("a whole run takes %v", full)

	const kills = 8
	midApply := 0
	for i := 0; i < kills; i++ {
		delay := full * time.Duration(i) / kills
		t.Run(fmt.Sprintf("kill-at-%d%%", 100*i/kills), func(t *testing.T) {
			run := nsscript(t, "run", script)
			if err := run.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(delay)
			run.Process.Signal(syscall.SIGKILL)
			run.Wait()

			ls, err := nsscript(t, "ls", "--json").Output()
			if err != nil {
				t.Fatalf("ls: %v", err)
			}
			var labs []struct{ State string }
			if err := json.Unmarshal(ls, &labs); err != nil {
				t.Fatalf("ls --json: %v\n%s", err, ls)
			}
			if len(labs) == 1 && labs[0].State != "up" {
				midApply++
			}

			out, err := nsscript(t, "down", "big").CombinedOutput()
			if err != nil {
				t.Fatalf("down after kill at %v: %v\n%s", delay, err, out)
			}
			after, err := networkState()
			if err != nil {
				t.Fatal(err)
			}
			if after != before {
				t.Fatalf("down after a kill at %v left the network changed:\n%s", delay, diffLines(before, after))
			}
			if entries, _ := os.ReadDir(filepath.Join(dir, "state")); len(entries) != 0 {
				t.Fatalf("state dir not empty after down: %v", entries)
			}
		})
	}
	// The kills must have hit the apply itself, not only the moments before
	// and after it.
	t.Logf("%d of %d kills landed while the lab was being applied", midApply, kills)
	if midApply == 0 {
		t.Errorf("no kill landed mid-apply; the test did not test anything")
	}
}

// diffLines lists the lines only in a and only in b.
func diffLines(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out strings.Builder
	for _, l := range strings.Split(a, "\n") {
		if !mb[l] {
			out.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ma[l] {
			out.WriteString("+ " + l + "\n")
		}
	}
	return out.String()
}
