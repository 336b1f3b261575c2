package interp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"nsscript/builtins"
	"nsscript/interp"
	"nsscript/topo"
)

// writeFiles writes files (name → text) under a new directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func newSession(out io.Writer, b builtins.Backend) *interp.Session {
	return interp.NewSession(interp.Options{Backend: b, Stdout: out})
}

func TestLoadRelativeToLoadingFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"lab.star":        `load("lib/a.star", "A")` + "\n" + `load("lib/b.star", "B")` + "\nprint(A, B)\n",
		"lib/a.star":      `load("common.star", "C")` + "\nA = C + 1\nnetns(\"from-a\")\n",
		"lib/b.star":      `load("common.star", "C")` + "\nB = C + 2\n",
		"lib/common.star": "print(\"common runs once\")\nC = 40\n",
	})
	var out strings.Builder
	s := newSession(&out, nil)
	if err := s.ExecFile(context.Background(), filepath.Join(dir, "lab.star"), nil); err != nil {
		t.Fatal(interp.FormatError(err))
	}
	if got, want := out.String(), "common runs once\n41 42\n"; got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
	if s.Lab.LookupNetns("from-a") == nil {
		t.Errorf("a loaded file's netns() is not in the session's lab")
	}
	if s.Lab.Name != "lab" {
		t.Errorf("lab name %q, want %q", s.Lab.Name, "lab")
	}
}

func TestLoadCycle(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"lab.star":  `load("x/a.star", "A")`,
		"x/a.star":  `load("b.star", "B")` + "\nA = 1\n",
		"x/b.star":  `load("../lab.star", "L")` + "\nB = 1\n",
		"self.star": `load("self.star", "S")`,
	})
	err := newSession(io.Discard, nil).ExecFile(context.Background(), filepath.Join(dir, "lab.star"), nil)
	got := interp.FormatError(err)
	for _, w := range []string{"x/b.star:1:1: cannot load ../lab.star: load cycle: ", "lab.star loads ", "x/a.star loads ", "x/b.star loads ", "lab.star", "third file",
		"Traceback", "lab.star:1:1: in <toplevel>", "a.star:1:1: in <toplevel>"} {
		if !strings.Contains(got, w) {
			t.Errorf("cycle error lacks %q:\n%s", w, got)
		}
	}

	err = newSession(io.Discard, nil).ExecFile(context.Background(), filepath.Join(dir, "self.star"), nil)
	if got := interp.FormatError(err); !strings.Contains(got, "load cycle: ") || !strings.Contains(got, "self.star:1:1: ") {
		t.Errorf("self-load error: %s", got)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"missing.star":    `load("lib/nope.star", "x")`,
		"badname.star":    `load("lib/ok.star", "nope")`,
		"inner.star":      "\n" + `load("lib/fails.star", "f")`,
		"syntax.star":     `load("lib/syntax.star", "x")`,
		"lib/ok.star":     "yes = 1\n",
		"lib/fails.star":  "def f():\n    netns(\"bad/name\")\nf()\n",
		"lib/syntax.star": "x = (\n",
	})
	tests := []struct {
		file string
		want []string
	}{
		{"missing.star", []string{"missing.star:1:1: cannot load lib/nope.star: ", "lib/nope.star does not exist", "relative to the directory of the loading file"}},
		{"badname.star", []string{"badname.star:1:1: load: name nope not found in module lib/ok.star"}},
		{"inner.star", []string{"lib/fails.star:2:10: netns: ", `"bad/name"`, "Traceback",
			"inner.star:2:1: in <toplevel>", "fails.star:3:2: in <toplevel>", "fails.star:2:10: in f"}},
		{"syntax.star", []string{"lib/syntax.star:2:1: got end of file, want", "Traceback", "syntax.star:1:1: in <toplevel>"}},
	}
	for _, tt := range tests {
		err := newSession(io.Discard, nil).ExecFile(context.Background(), filepath.Join(dir, tt.file), nil)
		got := interp.FormatError(err)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: error lacks %q:\n%s", tt.file, w, got)
			}
		}
	}
}

func TestVars(t *testing.T) {
	s := interp.NewSession(interp.Options{Vars: map[string]string{"n": "3", "a": "x"}, Stdout: io.Discard})
	err := s.ExecFile(context.Background(), "lab.star", `
n = int(vars.get("n", "4"))
for i in range(n):
    netns("h%d" % i)
keys = list(vars.keys())
missing = vars.get("nope", "default")
`)
	if err != nil {
		t.Fatal(interp.FormatError(err))
	}
	if len(s.Lab.Netns) != 3 {
		t.Errorf("got %d namespaces, want 3", len(s.Lab.Netns))
	}
	if got := s.Globals["keys"].String(); got != `["a", "n"]` {
		t.Errorf("vars keys %s, want sorted [\"a\", \"n\"]", got)
	}
	if got := s.Globals["missing"]; got != starlark.String("default") {
		t.Errorf("vars.get default: %v", got)
	}

	err = interp.NewSession(interp.Options{Stdout: io.Discard}).ExecFile(context.Background(), "lab.star", `vars["x"] = "y"`)
	if got := interp.FormatError(err); !strings.Contains(got, "lab.star:1:5: ") || !strings.Contains(got, "frozen") {
		t.Errorf("assigning into vars: %s", got)
	}
}

func TestSyntaxAndDialect(t *testing.T) {
	err := newSession(io.Discard, nil).ExecFile(context.Background(), "lab.star", "x = 1\ny = )\n")
	if got := interp.FormatError(err); !strings.HasPrefix(got, "lab.star:2:5: ") {
		t.Errorf("syntax error: %s", got)
	}
	err = newSession(io.Discard, nil).ExecFile(context.Background(), "lab.star", "x = undefined_name\nz = also_undefined\n")
	if got := interp.FormatError(err); !strings.Contains(got, "lab.star:1:5: undefined: undefined_name\nlab.star:2:5: undefined: also_undefined") {
		t.Errorf("resolve errors: %s", got)
	}
	err = newSession(io.Discard, nil).ExecFile(context.Background(), "lab.star", `
s = set([1, 2])
def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)
k = 0
while k < 3:
    k += 1
if fact(4) != 24 or len(s) != 2:
    fail("dialect broken")
p = struct(a = 1)
`)
	if err != nil {
		t.Fatal(interp.FormatError(err))
	}
}

// fakeBackend records calls and fails as told.
type fakeBackend struct {
	syncErr, execErr error
	code             int
	stderr           string
	syncs            int
	execs            [][]string
}

func (f *fakeBackend) Sync(ctx context.Context, lab *topo.Lab) error {
	f.syncs++
	return f.syncErr
}

func (f *fakeBackend) Exec(ctx context.Context, ns string, argv []string, stdin io.Reader) ([]byte, []byte, int, error) {
	f.execs = append(f.execs, append([]string{topo.NSName(ns)}, argv...))
	return []byte("out"), []byte(f.stderr), f.code, f.execErr
}

func (f *fakeBackend) Probe(ctx context.Context, probes []topo.Probe, count int, timeout time.Duration) []topo.ProbeResult {
	return make([]topo.ProbeResult, len(probes))
}

// kernelError is how the kernel layer may report a failure about one
// resource: with its position and the errno beneath.
type kernelError struct {
	pos topo.Pos
	err error
}

func (e *kernelError) Error() string       { return "veth red-blue: " + e.err.Error() }
func (e *kernelError) Unwrap() error       { return e.err }
func (e *kernelError) ScriptPos() topo.Pos { return e.pos }

func TestErrorsUnwrapToErrno(t *testing.T) {
	src := "r = netns(\"r\")\nexec(r, \"true\")\n"

	// A kernel failure while exec() applies the lab.
	f := &fakeBackend{syncErr: fmt.Errorf("creating netns r: %w", syscall.EEXIST)}
	err := newSession(io.Discard, f).ExecFile(context.Background(), "lab.star", src)
	if !errors.Is(err, syscall.EEXIST) {
		t.Errorf("errors.Is(err, EEXIST) is false for %v", err)
	}
	if got := interp.FormatError(err); !strings.HasPrefix(got, "lab.star:2:5: exec: applying the lab declared so far: creating netns r: file exists") {
		t.Errorf("formatted: %s", got)
	}

	// A kernel failure that knows its resource's position.
	f = &fakeBackend{syncErr: &kernelError{topo.Pos{File: "lab.star", Line: 7, Col: 5}, syscall.EEXIST}}
	err = newSession(io.Discard, f).ExecFile(context.Background(), "lab.star", src)
	if !errors.Is(err, syscall.EEXIST) {
		t.Errorf("errors.Is(err, EEXIST) is false for %v", err)
	}
	if got := interp.FormatError(err); got != "lab.star:7:5: veth red-blue: file exists\nTraceback (most recent call last):\n  lab.star:2:5: in <toplevel>" {
		t.Errorf("formatted: %s", got)
	}

	// The same at the end of the file, outside Starlark.
	f = &fakeBackend{syncErr: &kernelError{topo.Pos{File: "lab.star", Line: 1, Col: 10}, syscall.EPERM}}
	err = newSession(io.Discard, f).ExecFile(context.Background(), "lab.star", `netns("r")`)
	if !errors.Is(err, syscall.EPERM) {
		t.Errorf("errors.Is(err, EPERM) is false for %v", err)
	}
	if got := interp.FormatError(err); got != "lab.star:1:10: veth red-blue: operation not permitted" {
		t.Errorf("formatted: %s", got)
	}

	// A command that cannot run at all.
	f = &fakeBackend{execErr: fmt.Errorf("fork: %w", syscall.ENOMEM)}
	err = newSession(io.Discard, f).ExecFile(context.Background(), "lab.star", src)
	if !errors.Is(err, syscall.ENOMEM) {
		t.Errorf("errors.Is(err, ENOMEM) is false for %v", err)
	}
}

func TestExecFailure(t *testing.T) {
	f := &fakeBackend{code: 2, stderr: "ping: connect: Network is unreachable\n"}
	err := newSession(io.Discard, f).ExecFile(context.Background(), "lab.star", `
r = netns("r")
res = exec(r, ["ping", "-c", "1", "10.9.9.9"], check = False)
if res.code != 2 or res.stdout != "out" or res:
    fail("bad result %s" % res)
exec(r, "ping -c 1 10.9.9.9")
`)
	got := interp.FormatError(err)
	want := `lab.star:6:5: exec: command "ping -c 1 10.9.9.9" in namespace r exited with code 2; pass check=False to handle a failure in the script; stderr:
    ping: connect: Network is unreachable`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if len(f.execs) != 2 || strings.Join(f.execs[1], " ") != "r /bin/sh -c ping -c 1 10.9.9.9" {
		t.Errorf("execs: %q", f.execs)
	}
	if f.syncs != 2 {
		t.Errorf("%d syncs, want one per exec (the failed run does not sync at the end)", f.syncs)
	}
}

func TestExecWithoutBackend(t *testing.T) {
	err := newSession(io.Discard, nil).ExecFile(context.Background(), "lab.star", `exec(host, "true")`)
	if got := interp.FormatError(err); !strings.Contains(got, "lab.star:1:5: exec: ") || !strings.Contains(got, "only records") {
		t.Errorf("got %s", got)
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	s := newSession(io.Discard, nil)
	err := s.ExecFile(ctx, "lab.star", "while True:\n    pass\n")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("errors.Is(err, DeadlineExceeded) is false for %v", err)
	}
	if got := interp.FormatError(err); !strings.HasPrefix(got, "lab.star:") || !strings.Contains(got, ": Starlark computation cancelled: context deadline exceeded") {
		t.Errorf("formatted: %s", got)
	}
	// The session stays usable.
	if _, err := s.ExecChunk(context.Background(), parse(t, `netns("after")`)); err != nil {
		t.Fatal(interp.FormatError(err))
	}
}

func parse(t *testing.T, src string) *syntax.File {
	t.Helper()
	f, err := interp.FileOptions().Parse("<stdin>", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestExecChunk(t *testing.T) {
	var out strings.Builder
	f := &fakeBackend{}
	s := newSession(&out, f)
	if err := s.ExecFile(context.Background(), "lab.star", "red = netns(\"red\")\nitems = []\n"); err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []string{
		`blue = netns("blue")`,
		`v = veth(red, blue)`,
		`items.append(1)`, // the file's globals stay mutable
		`v.a.name`,
	} {
		if _, err := s.ExecChunk(context.Background(), parse(t, chunk)); err != nil {
			t.Fatalf("%s: %s", chunk, interp.FormatError(err))
		}
	}
	if got := s.Globals["_"]; got != starlark.String("red-blue") {
		t.Errorf("_ = %v, want \"red-blue\"", got)
	}
	if f.syncs != 5 {
		t.Errorf("%d syncs, want 5: the file and each chunk", f.syncs)
	}
	_, err := s.ExecChunk(context.Background(), parse(t, `netns("red")`))
	if got := interp.FormatError(err); !strings.HasPrefix(got, "<stdin>:1:6: netns: namespace \"red\" is already declared at lab.star:1:12") {
		t.Errorf("got %s", got)
	}
}
