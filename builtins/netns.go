package builtins

import (
	"go.starlark.net/starlark"

	"nsscript/topo"
)

// netns(name) declares a network namespace.
func netns(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := unpackArgs(fn.Name(), args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	s, err := stateFor(thread, fn)
	if err != nil {
		return nil, err
	}
	n := &topo.Netns{Name: name, Pos: CallerPos(thread)}
	if err := record(fn, s.Lab, func() error { return s.Lab.AddNetns(n) }); err != nil {
		return nil, err
	}
	return Netns{name}, nil
}
