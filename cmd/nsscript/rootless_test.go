package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"nsscript/sandbox"
)

// nobody is the unprivileged user the rootless test runs as.
const nobody = "65534"

// TestRootless runs `nsscript test` as the unprivileged user nobody, which
// makes each sandbox a user namespace of its own: the example bridge lab
// (namespaces, a bridge, veths, routes, a sysctl and an iptables masquerade
// rule), its checks and the isolation lab (an iptables filter rule made
// with exec) must pass there as they do for root. The test itself runs as
// root, in its sandbox, to become nobody; a copy of the test binary, run
// as nsscript, and of the labs sit in a directory nobody can read.
func TestRootless(t *testing.T) {
	if !sandbox.Inside() {
		t.Skip("becomes the user nobody with setpriv: needs root, runs inside a private network namespace")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("needs setpriv (util-linux) to become nobody")
	}
	dir, err := os.MkdirTemp("", "nsscript-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if st, err := os.Stat(d); err != nil || st.Mode().Perm()&0o001 == 0 {
			t.Skipf("nobody cannot reach %s (%s is not searchable by others); set TMPDIR to a directory that is", dir, d)
		}
		if d == "/" {
			break
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, self, filepath.Join(dir, "nsscript"), 0o755)
	// A lab that shows whose sandbox it is: uid 0 inside is nobody outside.
	whoami := filepath.Join(dir, "scripts", "whoami_test.star")
	for _, f := range []string{"bridge.star", "bridge_test.star", "isolation_test.star"} {
		copyFile(t, filepath.Join("../../scripts", f), filepath.Join(dir, "scripts", f), 0o644)
	}
	if err := os.WriteFile(whoami, []byte(`
r = exec(host, "cat /proc/self/uid_map")
print("uid_map:", " ".join(r.stdout.split()))
if r.stdout.split()[:3] != ["0", "`+nobody+`", "1"]:
    fail("not in a user namespace of nobody's: uid_map %r" % r.stdout)
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, filepath.Join(dir, "scripts")} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	cmd := exec.Command(setpriv, "--reuid="+nobody, "--regid="+nobody, "--clear-groups", "--",
		filepath.Join(dir, "nsscript"), "test", "-v",
		"scripts/bridge.star", "scripts/bridge_test.star", "scripts/isolation_test.star", "scripts/whoami_test.star")
	cmd.Dir = dir
	// The copy runs as nsscript (see TestMain), outside this test's
	// sandbox: each lab gets a sandbox of nobody's own.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, sandbox.EnvInside) && !strings.HasPrefix(kv, "NSSCRIPT_STATE_DIR=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "NSSCRIPT_TEST_MAIN=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	t.Logf("nsscript test, as nobody:\n%s", out)
	if err != nil {
		if strings.Contains(string(out), "user namespaces") {
			t.Skipf("this system keeps unprivileged users from making user namespaces: %s", out)
		}
		t.Fatalf("%v", err)
	}
	for _, want := range []string{"\n    uid_map: 0 " + nobody + " 1\n", "\n4 passed, 0 failed\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
