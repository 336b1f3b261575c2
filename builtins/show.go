package builtins

import (
	"io"
	"os"
	"strings"

	"go.starlark.net/starlark"

	"nsscript/topo"
)

// show() prints the lab declared so far as tables; net() is the same.
func show(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	s, err := stateFor(thread, fn)
	if err != nil {
		return nil, err
	}
	w := stdoutOf(thread)
	if s.Lab.Empty() {
		_, err := io.WriteString(w, emptyLab(s.Lab.Name))
		return starlark.None, err
	}
	return starlark.None, s.Lab.WriteTable(w, topo.Selection{})
}

func emptyLab(name string) string {
	if name == "" {
		return "the lab is empty\n"
	}
	return "lab " + name + " is empty\n"
}

// stdoutOf is where builtins run by thread report.
func stdoutOf(thread *starlark.Thread) io.Writer {
	if s := StateOf(thread); s != nil && s.Stdout != nil {
		return s.Stdout
	}
	return os.Stdout
}

// Describe returns v as the REPL prints it: a lab value with what the lab
// holds about it (a namespace with its interfaces, addresses and routes, a
// veth with its two ends, a bridge with its ports), the output of an exec()
// result, and any other value as print shows it. The text ends without a
// newline. Scripts see String(), which is unchanged.
func Describe(lab *topo.Lab, v starlark.Value) string {
	var sel topo.Selection
	switch v := v.(type) {
	case Netns:
		sel = topo.OnlyNS(v.name)
	case Bridge:
		br := v.br
		sel = topo.Selection{
			Iface: func(ns, name string) bool {
				if ns != br.NS {
					return false
				}
				if name == br.Name {
					return true
				}
				for _, veth := range lab.Veths {
					for _, e := range []topo.End{veth.A, veth.B} {
						if e.NS == ns && e.Name == name && e.Master == br.Name {
							return true
						}
					}
				}
				return false
			},
			NS: func(string) bool { return false },
		}
	case Veth:
		a, b := v.veth.A, v.veth.B
		sel = topo.OnlyIfaces([2]string{a.NS, a.Name}, [2]string{b.NS, b.Name})
	case Iface:
		e := v.End()
		sel = topo.OnlyIfaces([2]string{e.NS, e.Name})
	case ExecResult:
		return describeExec(v)
	default:
		return v.String()
	}
	var b strings.Builder
	b.WriteString(v.String())
	if lab != nil {
		var t strings.Builder
		if lab.WriteTable(&t, sel) == nil && t.Len() > 0 {
			b.WriteString("\n" + strings.TrimSuffix(t.String(), "\n"))
		}
	}
	return b.String()
}

// describeExec shows what a command wrote, then its exit code when it
// failed.
func describeExec(r ExecResult) string {
	var b strings.Builder
	b.WriteString(r.Stdout)
	if r.Stderr != "" {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteByte('\n')
		}
		b.WriteString(r.Stderr)
	}
	if r.Code != 0 {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteByte('\n')
		}
		b.WriteString(r.String())
	}
	return strings.TrimSuffix(b.String(), "\n")
}
