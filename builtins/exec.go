package builtins

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"nsscript/topo"
)

// exec(ns, cmd, check=True) applies the lab declared so far, then runs a
// command in ns.
func execCmd(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		ns    namespace
		cmd   command
		check = true
	)
	if err := unpackArgs(fn.Name(), args, kwargs, "ns", &ns, "cmd", &cmd, "check?", &check); err != nil {
		return nil, err
	}
	s, err := stateFor(thread, fn)
	if err != nil {
		return nil, err
	}
	if s.Backend == nil {
		return nil, fmt.Errorf("%s: this session only records the lab; it has no network to run %q in", fn.Name(), cmd.text)
	}
	if err := syncNow(thread, fn, s); err != nil {
		return nil, err
	}
	stdout, stderr, code, err := s.Backend.Exec(Context(thread), string(ns), cmd.argv, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot run %q in namespace %s: %w", fn.Name(), cmd.text, topo.NSName(string(ns)), err)
	}
	if check && code != 0 {
		return nil, fmt.Errorf("%s: %s", fn.Name(), exitMessage(cmd.text, string(ns), code, string(stderr)))
	}
	return ExecResult{Stdout: string(stdout), Stderr: string(stderr), Code: code}, nil
}

// maxStderrLines bounds how much of a failed command's stderr an error
// quotes: its last lines, where the reason usually is.
const maxStderrLines = 10

func exitMessage(text, ns string, code int, stderr string) string {
	msg := fmt.Sprintf("command %q in namespace %s exited with code %d", text, topo.NSName(ns), code)
	const hint = "; pass check=False to handle a failure in the script"
	stderr = strings.TrimRight(stderr, "\n")
	if strings.TrimSpace(stderr) == "" {
		return msg + " and wrote nothing to stderr" + hint
	}
	lines := strings.Split(stderr, "\n")
	if len(lines) > maxStderrLines {
		lines = append([]string{"..."}, lines[len(lines)-maxStderrLines:]...)
	}
	return msg + hint + "; stderr:\n    " + strings.Join(lines, "\n    ")
}

// command is the cmd argument of exec: a string run with /bin/sh -c, or a
// list of strings run as it is.
type command struct {
	argv []string
	text string // as messages show it
}

var _ starlark.Unpacker = (*command)(nil)

func (c *command) Unpack(v starlark.Value) error {
	var seq starlark.Indexable
	switch v := v.(type) {
	case starlark.String:
		if strings.TrimSpace(string(v)) == "" {
			return fmt.Errorf("command is empty; give a shell command such as \"ip addr\"")
		}
		*c = command{argv: []string{"/bin/sh", "-c", string(v)}, text: string(v)}
		return nil
	case *starlark.List:
		seq = v
	case starlark.Tuple:
		seq = v
	default:
		return fmt.Errorf("got %s, want a shell command string or a list of strings (argv)", v.Type())
	}
	if seq.Len() == 0 {
		return fmt.Errorf("command list is empty; give at least the program, e.g. [\"ip\", \"addr\"]")
	}
	argv := make([]string, seq.Len())
	for i := range argv {
		s, ok := seq.Index(i).(starlark.String)
		if !ok {
			return fmt.Errorf("item %d of the command is %s %s, want a string", i, seq.Index(i).Type(), seq.Index(i))
		}
		argv[i] = string(s)
	}
	*c = command{argv: argv, text: topo.ShellLine(argv...)}
	return nil
}
