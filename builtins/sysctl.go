package builtins

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"nsscript/topo"
)

// sysctl(ns, key, value) declares a sysctl setting in ns.
func sysctl(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		ns    namespace
		key   string
		value sysctlValue
	)
	if err := unpackArgs(fn.Name(), args, kwargs, "ns", &ns, "key", &key, "value", &value); err != nil {
		return nil, err
	}
	s, err := stateFor(thread, fn)
	if err != nil {
		return nil, err
	}
	sc := &topo.Sysctl{NS: string(ns), Key: key, Value: string(value), Pos: CallerPos(thread)}
	if err := record(fn, s.Lab, func() error { return s.Lab.AddSysctl(sc) }); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// sysctlValue is a sysctl value as sysctl(8) writes it: a string, an int,
// or a bool (True is "1").
type sysctlValue string

var _ starlark.Unpacker = (*sysctlValue)(nil)

func (s *sysctlValue) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case starlark.String:
		if strings.ContainsAny(string(v), "\n\x00") {
			return fmt.Errorf("value %s holds a newline or NUL; a sysctl value is one line", v)
		}
		*s = sysctlValue(v)
	case starlark.Int:
		*s = sysctlValue(v.String())
	case starlark.Bool:
		*s = "0"
		if v {
			*s = "1"
		}
	default:
		return fmt.Errorf("got %s, want a string, int or bool", v.Type())
	}
	return nil
}
