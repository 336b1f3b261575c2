package builtins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.starlark.net/starlark"

	"nsscript/topo"
)

// Backend is what the builtins act through when a lab meets the real
// world: the kernel layer for `nsscript run`, DryRun for `--dry-run`.
type Backend interface {
	// Sync brings the live network (or the printed script) up to date with
	// everything the lab declares.
	Sync(ctx context.Context, lab *topo.Lab) error
	// Exec runs argv in namespace ns (topo.Host for the root namespace)
	// and returns its output and exit code. err is for failing to run the
	// command at all, not for a non-zero exit.
	Exec(ctx context.Context, ns string, argv []string, stdin io.Reader) (stdout, stderr []byte, code int, err error)
	// Probe sends count ICMP echo requests for each probe, each waiting
	// up to timeout for its reply, and returns one result per probe in
	// order. Probes run concurrently, a bounded number at a time. A
	// probe that cannot run says why in its result's Err.
	Probe(ctx context.Context, probes []topo.Probe, count int, timeout time.Duration) []topo.ProbeResult
}

// State is what the builtins of one Starlark thread work on. Attach it to a
// thread before running a script on it.
type State struct {
	Lab     *topo.Lab
	Backend Backend   // nil: only record and check; exec fails
	Stdout  io.Writer // where builtins that report write
}

const (
	stateKey   = "nsscript.state"
	contextKey = "context" // as go.starlark.net/repl names it
)

// Attach makes s the state of the builtins run by thread.
func (s *State) Attach(thread *starlark.Thread) { thread.SetLocal(stateKey, s) }

// StateOf returns the state attached to thread, or nil.
func StateOf(thread *starlark.Thread) *State {
	s, _ := thread.Local(stateKey).(*State)
	return s
}

// SetContext sets the context that builtins run by thread use for the
// backend, until it is set again.
func SetContext(thread *starlark.Thread, ctx context.Context) { thread.SetLocal(contextKey, ctx) }

// Context returns the context set by SetContext, or context.Background.
func Context(thread *starlark.Thread) context.Context {
	if ctx, ok := thread.Local(contextKey).(context.Context); ok {
		return ctx
	}
	return context.Background()
}

// Sync checks the whole lab (lab.Check) and, when it is sound, has the
// backend bring the network up to date with it.
func (s *State) Sync(ctx context.Context) error {
	if err := s.Lab.Check(); err != nil {
		return err
	}
	if s.Backend == nil {
		return nil
	}
	return s.Backend.Sync(ctx, s.Lab)
}

// Host is the predeclared value host: the root network namespace.
var Host = Netns{name: topo.Host}

// Predeclared returns the builtins and host, to be predeclared for every
// file of a lab. Each call returns a new dictionary.
func Predeclared() starlark.StringDict {
	d := starlark.StringDict{"host": Host}
	for _, b := range []*starlark.Builtin{
		starlark.NewBuiltin("netns", netns),
		starlark.NewBuiltin("bridge", bridge),
		starlark.NewBuiltin("veth", veth),
		starlark.NewBuiltin("addr", addr),
		starlark.NewBuiltin("route", route),
		starlark.NewBuiltin("masquerade", masquerade),
		starlark.NewBuiltin("sysctl", sysctl),
		starlark.NewBuiltin("exec", execCmd),
		starlark.NewBuiltin("show", show),
		starlark.NewBuiltin("net", show),
		starlark.NewBuiltin("help", help),
		starlark.NewBuiltin("static_neighbors", staticNeighbors),
		// Builtins that observe the live network; like exec, they call
		// syncNow before acting.
		starlark.NewBuiltin("ping", ping),
		starlark.NewBuiltin("pingall", pingall),
		starlark.NewBuiltin("expect_reach", expectReach),
		starlark.NewBuiltin("expect_no_reach", expectNoReach),
	} {
		d[b.Name()] = b
	}
	return d
}

// CallerPos returns the script position of the call to the running
// builtin: where the resource it records was declared.
func CallerPos(thread *starlark.Thread) topo.Pos {
	p := thread.CallFrame(1).Pos
	return topo.Pos{File: p.Filename(), Line: int(p.Line), Col: int(p.Col)}
}

// stateFor returns the thread's state, or an error naming builtin fn.
func stateFor(thread *starlark.Thread, fn *starlark.Builtin) (*State, error) {
	s := StateOf(thread)
	if s == nil || s.Lab == nil {
		return nil, fmt.Errorf("%s: no lab is attached to this thread (internal error)", fn.Name())
	}
	return s, nil
}

// syncNow applies what the script declared so far, before builtin fn acts
// on the live network. A problem with one declaration is returned as it is,
// since it carries the position of that declaration rather than fn's.
func syncNow(thread *starlark.Thread, fn *starlark.Builtin, s *State) error {
	err := s.Sync(Context(thread))
	var te *topo.Error
	if err == nil || errors.As(err, &te) {
		return err
	}
	return fmt.Errorf("%s: applying the lab declared so far: %w", fn.Name(), err)
}

// record runs add, a sequence of Add* calls on lab, as one: when add fails,
// whatever it added is forgotten again, so a failed call declares nothing.
func record(fn *starlark.Builtin, lab *topo.Lab, add func() error) error {
	m := lab.Mark()
	if err := add(); err != nil {
		lab.Truncate(m)
		return fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return nil
}
