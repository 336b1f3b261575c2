package builtins

import (
	"go.starlark.net/starlark"
)

// static_neighbors() declares permanent neighbour entries for every pair
// of stations on each segment of the lab declared so far.
func staticNeighbors(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	s, err := stateFor(thread, fn)
	if err != nil {
		return nil, err
	}
	entries := s.Lab.SegmentNeighbors(CallerPos(thread))
	err = record(fn, s.Lab, func() error {
		for _, n := range entries {
			if err := s.Lab.AddNeighbor(n); err != nil {
				return err
			}
		}
		return nil
	})
	return starlark.None, err
}
