package repl

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"nsscript/interp"
	"nsscript/kernel"
	"nsscript/sandbox"
)

// kernelSession makes run's REPL apply to the kernel, as lab name, with
// rollback through the applier; it returns the applier.
func kernelSession(t *testing.T, name string) (option, *kernel.Applier) {
	t.Helper()
	if !sandbox.Inside() {
		t.Skip("applies inputs to the kernel: needs root, runs inside a private network namespace")
	}
	a, err := kernel.Open(t.TempDir(), name, kernel.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Abort(context.Background()); err != nil {
			t.Errorf("removing lab %s: %v", name, err)
		}
	})
	return func(o *Options) {
		o.Session = interp.NewSession(interp.Options{Name: name, Backend: a, Stdout: o.Out})
		o.Savepoint = func() func(context.Context) error {
			sp := a.Savepoint()
			return func(ctx context.Context) error { return a.RollbackTo(ctx, sp) }
		}
	}, a
}

func namespacesUp(t *testing.T) string {
	t.Helper()
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

// An input that fails in the kernel after applying part of itself leaves
// the kernel as it was before it; the lab goes on from there.
func TestKernelRollback(t *testing.T) {
	withKernel, _ := kernelSession(t, "rb")
	if out, err := exec.Command("ip", "netns", "add", "rb-foreign").CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	defer exec.Command("ip", "netns", "del", "rb-foreign").Run()

	s := run(t, `a = netns("rb-a")
b = netns("rb-b"); netns("rb-foreign")
c = netns("rb-c"); veth(a, c, name="rb-v", addr="10.77.0.1/24", peer_addr="10.77.0.2/24"); exec(a, "exit 3")
for n in ["rb-d", "rb-e"]:
    netns(n)

exec(a, "ip -br addr").code
`, withKernel)
	for _, w := range []string{
		"<stdin>:2:25: netns rb-foreign: /run/netns/rb-foreign exists and is not this lab's",
		`<stdin>:3:96: exec: command "exit 3" in namespace rb-a exited with code 3`,
	} {
		if !strings.Contains(s.err.String(), w) {
			t.Errorf("errors lack %q:\n%s", w, s.err.String())
		}
	}
	if got, want := namespacesUp(t), "rb-a rb-d rb-e rb-foreign"; got != want {
		t.Errorf("namespaces up: %q, want %q", got, want)
	}
	if got := netnsNames(s.sess.Lab); got != "rb-a rb-d rb-e" {
		t.Errorf("lab declares %q", got)
	}
	if s.out.String() != "0\n" {
		t.Errorf("printed %q", s.out.String())
	}
	// The veth of the failed input is gone from the host's view as well.
	if out, _ := exec.Command("ip", "netns", "exec", "rb-a", "ip", "-br", "link").CombinedOutput(); strings.Contains(string(out), "rb-v") {
		t.Errorf("rb-v survived its rollback:\n%s", out)
	}
}

// save() in a live session writes a script that builds the same lab.
func TestKernelSaveRebuilds(t *testing.T) {
	// Named as rebuild names its lab: MAC addresses derive from the name.
	withKernel, _ := kernelSession(t, "t")
	path := filepath.Join(t.TempDir(), "sv.star")
	s := run(t, `br = bridge("sv-br", addr="10.78.0.1/24")
for i in range(1, 3):
    ns = netns("sv%d" % i)
    veth(ns, br, addr="10.78.0.%d/24" % (i + 10))
    route(ns, "default", via="10.78.0.1")

exec(netns("sv3"), "true")
save("`+path+`")
`, withKernel)
	if s.err.Len() != 0 {
		t.Fatal(s.err.String())
	}
	script, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rebuild(t, string(script), nil), shellOf(s); got != want {
		t.Errorf("the saved script builds\n%s\nnot\n%s", got, want)
	}
}
