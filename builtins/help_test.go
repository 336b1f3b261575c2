package builtins_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"nsscript/builtins"
	"nsscript/interp"
	"nsscript/topo"
)

// output runs src as a file with no backend and returns what it printed.
func output(t *testing.T, src string) string {
	t.Helper()
	var out strings.Builder
	s := interp.NewSession(interp.Options{Name: "t", Stdout: &out})
	if err := s.ExecFile(context.Background(), "lab.star", src); err != nil {
		t.Fatal(interp.FormatError(err))
	}
	return out.String()
}

// Every predeclared name has a reference, and the parameters it lists are
// the ones the builtin takes (which the REPL completes).
func TestDocsMatchBuiltins(t *testing.T) {
	takes := regexp.MustCompile(`; \w+ takes (.*)$`)
	thread := &starlark.Thread{}
	(&builtins.State{Lab: &topo.Lab{}}).Attach(thread)
	for name, v := range builtins.Predeclared() {
		d, ok := builtins.DocOf(name)
		if !ok {
			t.Errorf("%s has no Doc", name)
			continue
		}
		if d.Summary == "" || d.Signature == "" || !strings.HasPrefix(d.Signature, name) {
			t.Errorf("%s: incomplete Doc %+v", name, d)
		}
		b, ok := v.(*starlark.Builtin)
		if !ok {
			continue
		}
		_, err := starlark.Call(thread, b, nil, []starlark.Tuple{{starlark.String("bogus_kw"), starlark.None}})
		m := takes.FindStringSubmatch(err.Error())
		var want []string
		if m != nil {
			want = strings.Split(m[1], ", ")
		}
		if !slices.Equal(d.Params, want) && !(len(d.Params) == 0 && len(want) == 0) {
			t.Errorf("%s: Doc lists parameters %q, the builtin takes %q (%v)", name, d.Params, want, err)
		}
	}
	for _, d := range builtins.Docs() {
		for _, w := range []string{d.Name, d.Signature} {
			if w == "" {
				t.Errorf("empty Doc field in %+v", d)
			}
		}
	}
}

func TestHelp(t *testing.T) {
	out := output(t, `help()`)
	for _, d := range builtins.Docs() {
		if !regexp.MustCompile(`(?m)^  ` + d.Name + ` +` + regexp.QuoteMeta(d.Summary) + `$`).MatchString(out) {
			t.Errorf("help() lacks the line for %s:\n%s", d.Name, out)
		}
	}

	for _, src := range []string{`help(veth)`, `help("veth")`} {
		out = output(t, src)
		for _, w := range []string{"veth(a, b, name=None, peer=None, addr=None, peer_addr=None, mtu=None, mac=None, peer_mac=None) -> veth\n",
			"\nExample:\n    v = veth(red, blue, "} {
			if !strings.Contains(out, w) {
				t.Errorf("%s lacks %q:\n%s", src, w, out)
			}
		}
	}

	out = output(t, `
def lan(name, ip, gw="10.0.0.1", *more, **kw):
    """Puts a namespace on the LAN."""
    pass
help(lan)
v = veth(netns("a"), host)
help(v)
help(v.a)
help(host)
help(len)
`)
	for _, w := range []string{
		`lan(name, ip, gw="10.0.0.1", *more, **kw), defined at lab.star:2:1`,
		"    Puts a namespace on the LAN.",
		"<veth a-host in a, host-a in host> is a veth; its attributes:\n    .a  the end",
		"<iface a-host in a> is an iface; its attributes:\n    .name ",
		"host\n\nThe root network namespace",
		"len is Starlark's own builtin",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("help lacks %q:\n%s", w, out)
		}
	}

	err := run(t, `help("vet")`)
	if !strings.Contains(err, `lab.star:1:5: help: no builtin is named "vet"; help() lists them`) {
		t.Errorf("help of an unknown name: %s", err)
	}
}

func TestShow(t *testing.T) {
	if got := output(t, "show()"); got != "lab t is empty\n" {
		t.Errorf("show() of an empty lab: %q", got)
	}
	got := output(t, `
br = bridge("br0", addr="10.0.0.1/24")
veth(netns("red"), br, addr="10.0.0.2/24")
show()
net()
`)
	want := `NAMESPACE  INTERFACE  KIND    PEER          BRIDGE  ADDRESSES
host       br0        bridge                        10.0.0.1/24
host       br0-red    veth    red-br0@red   br0
red        red-br0    veth    br0-red@host          10.0.0.2/24
`
	if got != want+want {
		t.Errorf("show() and net() printed:\n%s\nwant twice:\n%s", got, want)
	}
}

func TestDescribe(t *testing.T) {
	lab := &topo.Lab{}
	tests := []struct {
		v    starlark.Value
		want string
	}{
		{builtins.ExecResult{Stdout: "out\n", Code: 0}, "out"},
		{builtins.ExecResult{Stdout: "out", Stderr: "err\n", Code: 2}, "out\nerr\n<exec_result code=2>"},
		{builtins.ExecResult{}, ""},
		{starlark.String("x"), `"x"`},
		{builtins.NewNetns("red"), "<netns red>"},
	}
	for _, tt := range tests {
		if got := builtins.Describe(lab, tt.v); got != tt.want {
			t.Errorf("Describe(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
