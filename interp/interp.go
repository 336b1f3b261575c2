// Package interp runs nsscript lab scripts: it owns the Starlark thread, the
// dialect, load(), the predeclared names and the formatting of errors. A
// Session evaluates files (and REPL chunks) into one topo.Lab and has its
// Backend apply the lab.
//
// Besides the builtins of package builtins, every file sees:
//
//	vars     a frozen dict of the --var KEY=VALUE strings,
//	         e.g. int(vars.get("n", "4"))
//	struct   struct(**kwargs), as in go.starlark.net/starlarkstruct
//	print    writes to the session's Stdout
//
// load("lib.star", "sym") runs lib.star, relative to the directory of the
// file that loads it, once per session; loaded files declare into the same
// lab. A load cycle is an error.
package interp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"nsscript/builtins"
	"nsscript/topo"
)

// FileOptions returns the dialect of lab scripts: top-level for, if and
// while, global reassignment, sets and recursion, so scripts read like the
// shell they replace.
func FileOptions() *syntax.FileOptions {
	return &syntax.FileOptions{
		Set:             true,
		While:           true,
		TopLevelControl: true,
		GlobalReassign:  true,
		Recursion:       true,
	}
}

// Options configure a Session.
type Options struct {
	// Name is the lab's name. When empty, the first file run names it:
	// its base name without ".star".
	Name string
	// Vars are the --var KEY=VALUE pairs, seen by scripts as vars.
	Vars map[string]string
	// Backend applies the lab. Nil only records and checks it; exec()
	// then fails.
	Backend builtins.Backend
	// Stdout receives print(). Nil means os.Stdout. With a DryRun backend
	// writing the script to standard output, point this elsewhere (such
	// as os.Stderr) to keep the script clean.
	Stdout io.Writer
}

// Session is one evaluation of a lab: a Starlark thread, the lab it fills,
// and the modules it has loaded. Files and REPL chunks run in the same
// session add to the same lab. A Session is not safe for concurrent use.
type Session struct {
	// Lab is everything the session's scripts declared.
	Lab *topo.Lab
	// Thread runs the scripts. Its Load, Print and thread-local state are
	// set by NewSession.
	Thread *starlark.Thread
	// Globals are the global variables of the last file run by ExecFile,
	// or the REPL's globals once ExecChunk has run.
	Globals starlark.StringDict

	state       *builtins.State
	predeclared starlark.StringDict
	modules     map[string]*module // by absolute path
	loading     []string           // files being run, outermost first, as displayed
	repl        bool               // Globals hold the predeclared names too
}

type module struct {
	globals starlark.StringDict
	running bool
}

// NewSession returns a session with an empty lab.
func NewSession(opts Options) *Session {
	stdout := opts.Stdout
	if stdout == nil {
		stdout = os.Stdout
	}
	s := &Session{
		Lab:     &topo.Lab{Name: opts.Name},
		modules: map[string]*module{},
	}
	s.state = &builtins.State{Lab: s.Lab, Backend: opts.Backend, Stdout: stdout}
	s.Thread = &starlark.Thread{
		Name:  "nsscript",
		Load:  s.load,
		Print: func(_ *starlark.Thread, msg string) { fmt.Fprintln(stdout, msg) },
	}
	s.state.Attach(s.Thread)

	s.predeclared = builtins.Predeclared()
	s.predeclared["vars"] = varsDict(opts.Vars)
	s.predeclared["struct"] = starlark.NewBuiltin("struct", starlarkstruct.Make)
	return s
}

func varsDict(vars map[string]string) *starlark.Dict {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	d := starlark.NewDict(len(keys))
	for _, k := range keys {
		d.SetKey(starlark.String(k), starlark.String(vars[k])) // cannot fail: unfrozen, strings hash
	}
	d.Freeze()
	return d
}

// Predeclared returns the names every file of the session sees: the
// builtins, host, vars and struct. The dictionary is the session's own; do
// not modify it.
func (s *Session) Predeclared() starlark.StringDict { return s.predeclared }

// ExecFile runs the file filename, then checks the whole lab and has the
// backend apply it. src, when not nil, is the file's text (a string,
// []byte or io.Reader), as for syntax.Parse; otherwise the file is read.
// Errors are printed best with FormatError.
func (s *Session) ExecFile(ctx context.Context, filename string, src any) error {
	if s.Lab.Name == "" {
		s.Lab.Name = strings.TrimSuffix(filepath.Base(filename), ".star")
	}
	err := s.run(ctx, func() error {
		key, err := filepath.Abs(filename)
		if err != nil {
			return err
		}
		m := &module{running: true}
		s.modules[key] = m
		s.loading = append(s.loading, filename)
		defer func() { s.loading = s.loading[:len(s.loading)-1] }()
		m.globals, err = s.execModule(filename, src, false)
		m.running = false
		s.Globals = m.globals
		s.repl = false
		return err
	})
	if err != nil {
		return err
	}
	return s.Sync(ctx)
}

// Sync checks the whole lab and has the backend bring the network up to
// date with it.
func (s *Session) Sync(ctx context.Context) error { return s.state.Sync(ctx) }

// ExecChunk runs one chunk of REPL input, parsed with FileOptions: an
// expression is evaluated and its value returned (and kept as _), other
// statements are executed and None returned. The chunk shares the
// session's globals, including those of a file run before. When the chunk
// succeeds, the lab is checked and applied, as at the end of a file.
func (s *Session) ExecChunk(ctx context.Context, f *syntax.File) (starlark.Value, error) {
	s.REPLGlobals()
	result := starlark.Value(starlark.None)
	err := s.run(ctx, func() error {
		if len(f.Stmts) == 1 {
			if stmt, ok := f.Stmts[0].(*syntax.ExprStmt); ok {
				v, err := starlark.EvalExprOptions(f.Options, s.Thread, stmt.X, s.Globals)
				if err != nil {
					return err
				}
				s.Globals["_"] = v
				result = v
				return nil
			}
		}
		return starlark.ExecREPLChunk(f, s.Thread, s.Globals)
	})
	if err != nil {
		return nil, err
	}
	return result, s.Sync(ctx)
}

// REPLGlobals returns the globals that REPL chunks run in: the predeclared
// names and the globals of the file run before, if any, merged on first use
// with the file's own names winning. The map is the session's own (it is
// Globals from then on): a REPL may add names of its own to it, and
// restore it after a failed chunk.
func (s *Session) REPLGlobals() starlark.StringDict {
	if !s.repl {
		// ExecREPLChunk sees no predeclared names, only globals.
		g := make(starlark.StringDict, len(s.predeclared)+len(s.Globals))
		for k, v := range s.predeclared {
			g[k] = v
		}
		for k, v := range s.Globals {
			g[k] = v
		}
		s.Globals, s.repl = g, true
	}
	return s.Globals
}

// run runs fn on the session's thread with ctx as the builtins' context;
// ctx being done cancels the Starlark computation.
func (s *Session) run(ctx context.Context, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	builtins.SetContext(s.Thread, ctx)
	stop := context.AfterFunc(ctx, func() { s.Thread.Cancel(context.Cause(ctx).Error()) })
	err := fn()
	if !stop() {
		// The context ended while fn ran: report the cancellation in a
		// way errors.Is recognises, and leave the thread usable again.
		s.Thread.Uncancel()
		if err != nil {
			err = &interrupted{err, ctx.Err()}
		}
	}
	return err
}

// interrupted is the error of a run cut short by its context: it reads as
// the Starlark error and unwraps to both it and the context's error.
type interrupted struct {
	err, ctxErr error
}

func (e *interrupted) Error() string   { return e.err.Error() }
func (e *interrupted) Unwrap() []error { return []error{e.err, e.ctxErr} }

// execModule runs the file filename in the session's thread and returns
// its globals, frozen when freeze is set (loaded modules are shared).
func (s *Session) execModule(filename string, src any, freeze bool) (starlark.StringDict, error) {
	_, prog, err := starlark.SourceProgramOptions(FileOptions(), filename, src, s.predeclared.Has)
	if err != nil {
		return nil, err
	}
	g, err := prog.Init(s.Thread, s.predeclared)
	if freeze {
		g.Freeze()
	}
	return g, err
}

// load implements load(): name is a path relative to the directory of
// the file that loads it. Each file runs once per session.
func (s *Session) load(thread *starlark.Thread, name string) (starlark.StringDict, error) {
	from := thread.CallFrame(0).Pos.Filename()
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(from), name)
	}
	key, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if m, ok := s.modules[key]; ok {
		if m.running {
			return nil, s.cycleError(key, path)
		}
		return m.globals, nil
	}
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist; load() paths are relative to the directory of the loading file, %s", path, from)
	} else if err != nil {
		return nil, err
	}

	m := &module{running: true}
	s.modules[key] = m
	s.loading = append(s.loading, path)
	defer func() { s.loading = s.loading[:len(s.loading)-1] }()
	m.globals, err = s.execModule(path, src, true)
	m.running = false
	if err != nil {
		// Forget the failure, so a REPL user can fix the file and load
		// it again.
		delete(s.modules, key)
		return nil, err
	}
	return m.globals, nil
}

// cycleError describes the load cycle closed by loading path again.
func (s *Session) cycleError(key, path string) error {
	chain := append([]string(nil), s.loading...)
	for i, f := range chain {
		if abs, err := filepath.Abs(f); err == nil && abs == key {
			chain = chain[i:]
			break
		}
	}
	chain = append(chain, path)
	return fmt.Errorf("load cycle: %s; move what both files need into a third file that neither loads", strings.Join(chain, " loads "))
}
