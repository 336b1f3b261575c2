package repl

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"nsscript/builtins"
	"nsscript/interp"
	"nsscript/sandbox"
	"nsscript/topo"
)

// TestMain runs the tests inside a private network namespace when root,
// for the ones that apply inputs to the kernel.
func TestMain(m *testing.M) {
	os.Exit(sandbox.Run(m.Run))
}

// session is a REPL fed from a pipe, with what it wrote.
type session struct {
	r        *REPL
	sess     *interp.Session
	out, err bytes.Buffer
	undos    int // how many times a failed input was rolled back
}

type option func(*Options)

// run feeds input to a new REPL whose session only records the lab (or
// uses the backend an option sets), and returns it once the input ends.
func run(t *testing.T, input string, opts ...option) *session {
	t.Helper()
	s := &session{}
	o := Options{In: strings.NewReader(input), Out: &s.out, Err: &s.err}
	o.Savepoint = func() func(context.Context) error {
		return func(context.Context) error { s.undos++; return nil }
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.Session == nil {
		o.Session = interp.NewSession(interp.Options{Name: "t", Stdout: &s.out})
	}
	s.sess = o.Session
	s.r = New(o)
	if err := s.r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func netnsNames(lab *topo.Lab) string {
	var names []string
	for _, n := range lab.Netns {
		names = append(names, n.Name)
	}
	return strings.Join(names, " ")
}

func TestBlockAndValues(t *testing.T) {
	s := run(t, `hosts = []
for i in range(3):
    # a comment inside a block does not end it
    hosts.append(netns("h%d" % i))

len(hosts)
hosts[1]
_.name
x = 1
`)
	if got := netnsNames(s.sess.Lab); got != "h0 h1 h2" {
		t.Errorf("namespaces %q, want h0 h1 h2", got)
	}
	want := "3\n<netns h1>\n\"h1\"\n"
	if s.out.String() != want {
		t.Errorf("printed %q, want %q", s.out.String(), want)
	}
	if s.err.Len() != 0 || s.r.Failed() != 0 {
		t.Errorf("errors: %s", s.err.String())
	}
}

func TestErrorThenWorkingStatement(t *testing.T) {
	s := run(t, `a = netns("a")
b = netns("b"); veth(a, bogus)
veth(a, "b")
b = netns("b")
b
`)
	wantErrs := []string{
		"<stdin>:2:25: undefined: bogus",
		`<stdin>:3:5: veth: for parameter b: got string "b", want a netns`,
	}
	for _, w := range wantErrs {
		if !strings.Contains(s.err.String(), w) {
			t.Errorf("errors lack %q:\n%s", w, s.err.String())
		}
	}
	if s.r.Failed() != 2 {
		t.Errorf("Failed() = %d, want 2", s.r.Failed())
	}
	if got := netnsNames(s.sess.Lab); got != "a b" {
		t.Errorf("namespaces %q, want a b", got)
	}
	if s.out.String() != "<netns b>\n" {
		t.Errorf("printed %q", s.out.String())
	}
}

// A failed input is undone whole: what it declared, what it applied (the
// backend is rolled back), and the globals it bound.
func TestFailedInputLeavesNothing(t *testing.T) {
	s := run(t, `a = netns("a")
b = netns("b"); c = 1; veth(a, b, name="x" * 20)
b
c
`)
	if got := netnsNames(s.sess.Lab); got != "a" {
		t.Errorf("namespaces %q, want a", got)
	}
	if s.undos != 1 {
		t.Errorf("rolled back %d times, want 1", s.undos)
	}
	for _, w := range []string{"<stdin>:3:1: undefined: b", "<stdin>:4:1: undefined: c"} {
		if !strings.Contains(s.err.String(), w) {
			t.Errorf("errors lack %q:\n%s", w, s.err.String())
		}
	}
	// Nothing is undone for an input that declared nothing.
	s = run(t, "1/0\n")
	if s.undos != 0 {
		t.Errorf("rolled back %d times for a failed input that declared nothing", s.undos)
	}
}

func TestErrorInFunctionShowsTraceback(t *testing.T) {
	s := run(t, `def mk(n):
    return veth(netns(n), host, name=n * 10)

mk("abc")
`)
	got := s.err.String()
	for _, w := range []string{"<stdin>:2:16: veth: ", "Traceback (most recent call last):",
		"<stdin>:4:3: in <expr>", "<stdin>:2:16: in mk"} {
		if !strings.Contains(got, w) {
			t.Errorf("error lacks %q:\n%s", w, got)
		}
	}
	if !s.sess.Lab.Empty() {
		t.Errorf("the failed call left %s declared", netnsNames(s.sess.Lab))
	}
}

func TestSyntaxErrors(t *testing.T) {
	s := run(t, "x = 1\ny = )\nnetns(\"ok\")\nveth(x,\n")
	got := s.err.String()
	for _, w := range []string{"<stdin>:2:5: unexpected ')'", "<stdin>:6:1: unexpected end of input"} {
		if !strings.Contains(got, w) {
			t.Errorf("errors lack %q:\n%s", w, got)
		}
	}
	if got := netnsNames(s.sess.Lab); got != "ok" || s.r.Failed() != 2 {
		t.Errorf("namespaces %q, %d failed; want ok, 2", got, s.r.Failed())
	}
	// A block at the end of the input needs no empty line after it.
	s = run(t, "for n in [\"p\", \"q\"]:\n    netns(n)")
	if got := netnsNames(s.sess.Lab); got != "p q" || s.err.Len() != 0 {
		t.Errorf("namespaces %q, errors %q", got, s.err.String())
	}
}

func TestInterruptCancelsOneInput(t *testing.T) {
	intr := make(chan os.Signal, 1)
	pr, pw := io.Pipe()
	done := make(chan *session)
	go func() {
		done <- run(t, "", func(o *Options) { o.In = pr; o.Interrupt = intr })
	}()
	io.WriteString(pw, "while True:\n    pass\n\n")
	time.Sleep(200 * time.Millisecond)
	intr <- os.Interrupt
	io.WriteString(pw, "netns(\"after\")\n")
	pw.Close()
	select {
	case s := <-done:
		if !strings.Contains(s.err.String(), "cancelled") {
			t.Errorf("no cancellation reported: %q", s.err.String())
		}
		if got := netnsNames(s.sess.Lab); got != "after" {
			t.Errorf("namespaces %q after the interrupt, want after", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Ctrl-C did not stop the running input")
	}
}

func TestDescribe(t *testing.T) {
	s := run(t, `br = bridge("br0", addr="10.1.0.1/24")
red = netns("red")
v = veth(red, br, addr="10.1.0.2/24")
route(red, "default", via="10.1.0.1")
red
v
br
show()
`)
	want := `<netns red>
NAMESPACE  INTERFACE  KIND  PEER          BRIDGE  ADDRESSES
red        red-br0    veth  br0-red@host          10.1.0.2/24

NAMESPACE  ROUTE
red        default via 10.1.0.1
<veth red-br0 in red, br0-red in host>
NAMESPACE  INTERFACE  KIND  PEER          BRIDGE  ADDRESSES
host       br0-red    veth  red-br0@red   br0
red        red-br0    veth  br0-red@host          10.1.0.2/24
<bridge br0 in host>
NAMESPACE  INTERFACE  KIND    PEER         BRIDGE  ADDRESSES
host       br0        bridge                       10.1.0.1/24
host       br0-red    veth    red-br0@red  br0
NAMESPACE  INTERFACE  KIND    PEER          BRIDGE  ADDRESSES
host       br0        bridge                        10.1.0.1/24
host       br0-red    veth    red-br0@red   br0
red        red-br0    veth    br0-red@host          10.1.0.2/24

NAMESPACE  ROUTE
red        default via 10.1.0.1
`
	if s.out.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", s.out.String(), want)
	}
}

func TestFileFirst(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "lab.star")
	os.WriteFile(file, []byte("red = netns(\"red\")\n"), 0o644)
	s := run(t, "veth(red, host)\n", func(o *Options) { o.File = file })
	if got := netnsNames(s.sess.Lab); got != "red" || len(s.sess.Lab.Veths) != 1 || s.err.Len() != 0 {
		t.Errorf("namespaces %q, %d veths, errors %q", got, len(s.sess.Lab.Veths), s.err.String())
	}

	// A file that fails leaves nothing: neither its lab nor its globals.
	os.WriteFile(file, []byte("red = netns(\"red\")\nfail(\"no\")\n"), 0o644)
	s = run(t, "red\nnetns(\"red\")\n", func(o *Options) { o.File = file })
	if got := netnsNames(s.sess.Lab); got != "red" {
		t.Errorf("namespaces %q, want red (declared at the prompt)", got)
	}
	for _, w := range []string{"lab.star:2:5: fail: no", "nothing of " + file + " was kept", "<stdin>:1:1: undefined: red"} {
		if !strings.Contains(s.err.String(), w) {
			t.Errorf("errors lack %q:\n%s", w, s.err.String())
		}
	}
	if s.r.Failed() != 2 || s.undos != 1 {
		t.Errorf("Failed() = %d, undos %d; want 2, 1", s.r.Failed(), s.undos)
	}
}

// dryRun makes the session print the shell commands each input stands for.
func dryRun(w io.Writer) option {
	return func(o *Options) {
		o.Session = interp.NewSession(interp.Options{Name: "t", Backend: &builtins.DryRun{W: w}, Stdout: o.Out})
		o.Savepoint = nil
	}
}

func TestDryRun(t *testing.T) {
	var sh bytes.Buffer
	s := run(t, "red = netns(\"red\")\nexec(red, \"ip addr\")\n", dryRun(&sh))
	for _, w := range []string{"ip netns add red\n", "ip netns exec red ip addr\n"} {
		if !strings.Contains(sh.String(), w) {
			t.Errorf("dry run lacks %q:\n%s", w, sh.String())
		}
	}
	if s.err.Len() != 0 {
		t.Error(s.err.String())
	}
}

// Without a terminal, a block needs no empty line after it: the line that
// ends it is the next input, numbered as it is in the input.
func TestBlocksWithoutEmptyLine(t *testing.T) {
	s := run(t, `for i in range(2): netns("x%d" % i)
y = netns("y")
for n in ["p", "q"]:
    netns(n)
y
1/0
`)
	if got := netnsNames(s.sess.Lab); got != "x0 x1 y p q" {
		t.Errorf("namespaces %q", got)
	}
	if s.out.String() != "<netns y>\n" {
		t.Errorf("printed %q", s.out.String())
	}
	if got := s.err.String(); !strings.HasPrefix(got, "<stdin>:6:2: floating-point division by zero") {
		t.Errorf("error %q, want it on line 6", got)
	}
}
