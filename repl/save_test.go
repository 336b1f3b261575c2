package repl

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nsscript/builtins"
	"nsscript/interp"
)

// rebuild runs script as a file with a dry-run backend and returns the
// shell script of the lab it builds.
func rebuild(t *testing.T, script string, vars map[string]string) string {
	t.Helper()
	var sh bytes.Buffer
	s := interp.NewSession(interp.Options{Name: "t", Vars: vars, Backend: &builtins.DryRun{W: &sh}, Stdout: io.Discard})
	if err := s.ExecFile(context.Background(), "saved.star", script); err != nil {
		t.Fatalf("the saved script fails: %s\n%s", interp.FormatError(err), script)
	}
	var b strings.Builder
	s.Lab.WriteShell(&b)
	return b.String()
}

func shellOf(s *session) string {
	var b strings.Builder
	s.sess.Lab.WriteShell(&b)
	return b.String()
}

// save() keeps what built the lab or defined names, in order, and skips
// failed inputs and pure queries; the script builds the same lab.
func TestSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lab.star")
	s := run(t, `a = netns("a")
a
show()
help(veth)
def mk(n):
    """Makes a namespace."""
    return netns(n)

mk("b")
c = _
len([1])
veth(a, nope)
hs = []
hs.append(c)
exec(a, "true")
for i in range(2): netns("x%d" % i)
a.name
if True:
    veth(a, hs[0], addr="10.0.0.1/24")
z = 1
save("`+path+`")
`, dryRun(io.Discard))
	want := `# Lab t as built at the nsscript repl prompt: the statements that
# changed it or defined names, in the order they ran. Rebuild it (once
# lab t is down) with: nsscript run ` + path + `

a = netns("a")

def mk(n):
    """Makes a namespace."""
    return netns(n)

_ = mk("b")
c = _
hs = []
hs.append(c)
exec(a, "true")
for i in range(2): netns("x%d" % i)

if True:
    veth(a, hs[0], addr="10.0.0.1/24")

z = 1
`
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("saved:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(s.out.String(), "saved 10 statements to "+path) {
		t.Errorf("save() said %q", s.out.String())
	}
	if got, want := rebuild(t, string(got), nil), shellOf(s); got != want {
		t.Errorf("the saved script builds\n%s\nnot\n%s", got, want)
	}
}

// The file run before the prompt and the --var values are saved too, so
// the script needs neither.
func TestSaveWithFileAndVars(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "base.star")
	os.WriteFile(file, []byte("n = int(vars[\"n\"])\nhosts = [netns(\"h%d\" % i) for i in range(n)]"), 0o644)
	vars := map[string]string{"n": "3"}
	s := run(t, "veth(hosts[0], hosts[2])\n", func(o *Options) {
		o.File = file
		o.Session = interp.NewSession(interp.Options{Name: "t", Vars: vars, Backend: &builtins.DryRun{W: io.Discard}, Stdout: o.Out})
	})
	script, n := s.r.Script("x.star")
	if n != 1 {
		t.Errorf("Script holds %d inputs, want 1", n)
	}
	for _, w := range []string{"vars = {\"n\": \"3\"}\n", "# From " + file, "hosts = [netns(", "# At the prompt.\nveth(hosts[0], hosts[2])\n"} {
		if !strings.Contains(script, w) {
			t.Errorf("script lacks %q:\n%s", w, script)
		}
	}
	if got, want := rebuild(t, script, nil), shellOf(s); got != want {
		t.Errorf("the saved script builds\n%s\nnot\n%s", got, want)
	}
}
