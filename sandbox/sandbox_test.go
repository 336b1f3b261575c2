package sandbox

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// childEnv makes the test binary act as the first process of a sandbox:
// finish it, and report what it sees.
const childEnv = "SANDBOX_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		if err := Init(); err != nil {
			fmt.Println(err)
			os.Exit(3)
		}
		ns, _ := namespaces()
		run, _ := os.ReadFile("/proc/self/mountinfo")
		tmpfsRun := false
		for _, l := range strings.Split(string(run), "\n") {
			if f := strings.Fields(l); len(f) > 8 && f[4] == "/run" && strings.Contains(l, " - tmpfs ") {
				tmpfsRun = true
			}
		}
		_, netnsDir := os.Stat("/run/netns")
		fmt.Printf("ns=%s fresh=%v inside=%v env=%s tmpfs-run=%v netns-dir=%v uid=%d\n",
			ns, Fresh(), Inside(), os.Getenv(EnvInside), tmpfsRun, netnsDir == nil, os.Geteuid())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestCheckPrivate(t *testing.T) {
	self, err := namespaces()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkPrivate(""); err == nil || !strings.Contains(err.Error(), envParent+" is missing") {
		t.Errorf("no parent: %v", err)
	}
	if err := checkPrivate(self); err == nil || !strings.Contains(err.Error(), "not in network and mount namespaces of its own") {
		t.Errorf("parent is self: %v", err)
	}
	net, mnt, _ := strings.Cut(self, " ")
	if err := checkPrivate(net + " mnt:[1]"); err == nil {
		t.Errorf("same network namespace accepted")
	}
	if err := checkPrivate("net:[1] " + mnt); err == nil {
		t.Errorf("same mount namespace accepted")
	}
	if err := checkPrivate("net:[1] mnt:[2]"); err != nil {
		t.Errorf("other namespaces refused: %v", err)
	}
}

// Init refuses an environment that claims a sandbox the process is not in,
// and so never mounts over the machine's own /run.
func TestInitRefusesForgedMark(t *testing.T) {
	t.Setenv(EnvInside, "new")
	t.Setenv(envParent, "")
	if err := Init(); err == nil || Fresh() {
		t.Fatalf("Init accepted a forged mark: %v", err)
	}
}

// Command makes a sandbox with namespaces of its own: as root, plain
// network and mount namespaces; otherwise a user namespace too, where the
// caller is root.
func TestCommand(t *testing.T) {
	cmd, err := Command("-test.run=^$")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(cmd.Env, childEnv+"=1")
	code, err := ExitCode(cmd.Run())
	if err != nil {
		if os.Geteuid() != 0 {
			t.Skipf("no unprivileged user namespaces here: %v", err)
		}
		t.Fatal(err)
	}
	self, _ := namespaces()
	got := out.String()
	t.Logf("sandbox: %s", got)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, got)
	}
	want := "fresh=true inside=true env=ready tmpfs-run=true netns-dir=true uid=0"
	if !strings.Contains(got, want) {
		t.Errorf("the sandbox reports %q, want %q", got, want)
	}
	for _, ns := range strings.Fields(self) {
		if strings.Contains(got, ns) {
			t.Errorf("the sandbox shares %s with its maker", ns)
		}
	}
}
