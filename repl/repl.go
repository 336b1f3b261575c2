// Package repl is nsscript's interactive prompt: it reads Starlark one
// statement at a time, applies each to the live lab at once, and prints the
// value of each expression.
//
// A complete input is one line (or more, while brackets are open), or a
// block (def, for, if, while) ended by an empty line; a line that is not
// indented also ends a block, and is the next input. Each runs in the session's globals (including those of a file
// run before the prompt) and is then applied, as at the end of a script. An
// input either happens entirely or not at all: when it fails, its error is
// printed, what it applied is rolled back, what it declared is forgotten and
// the globals it bound are restored, and the prompt goes on.
//
// On a terminal the prompts are ">>> " and "... ", with line editing,
// history, Ctrl-R search and tab completion of names, keyword arguments and
// attributes. Otherwise (input from a pipe or a file) inputs are read the
// same way with no prompts and no echo, so that a session can be scripted:
// results go to Out, errors to Err.
//
// Besides the builtins, the prompt predeclares save(path), which writes
// the statements that built the lab as a script (see Script).
package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"nsscript/builtins"
	"nsscript/interp"
)

// Prompts, as Python's.
const (
	ps1 = ">>> "
	ps2 = "... "
)

// Filename names the prompt's input in positions and tracebacks, such as
// "<stdin>:3:1". Lines are numbered across the whole session.
const Filename = "<stdin>"

// Options configure a REPL.
type Options struct {
	// Session evaluates the input. Its Stdout should be Out.
	Session *interp.Session
	// Savepoint, when set, is called before each input; the function it
	// returns undoes everything the backend applied since, and is called
	// when the input fails. Nil means there is nothing to undo (a dry run).
	Savepoint func() (undo func(context.Context) error)
	// File, when set, is run first, and its globals are in scope at the
	// prompt (like python -i).
	File string
	// In is where inputs come from. With Terminal set it must be os.Stdin.
	In io.Reader
	// Out receives values and what builtins print; Err receives errors.
	Out, Err io.Writer
	// Terminal turns on prompts and line editing (chzyer/readline on the
	// process's terminal).
	Terminal bool
	// HistoryFile is where a terminal session keeps its history across
	// sessions; "" keeps it in memory only.
	HistoryFile string
	// Interrupt delivers Ctrl-C while an input runs: it cancels that input
	// only. Nil: inputs are cancelled only with Run's context.
	Interrupt <-chan os.Signal
}

// REPL is one interactive session over an interp.Session.
type REPL struct {
	opts    Options
	sess    *interp.Session
	line    int      // lines read so far
	pending []string // lines read ahead of the last input, to read again
	failed  int
	history history
}

// New returns a REPL; Run starts it.
func New(opts Options) *REPL {
	if opts.In == nil {
		opts.In = os.Stdin
	}
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.Err == nil {
		opts.Err = os.Stderr
	}
	return &REPL{opts: opts, sess: opts.Session}
}

// Failed returns how many inputs (and the file run first) failed.
func (r *REPL) Failed() int { return r.failed }

// errInterrupt is what a line reader returns when Ctrl-C discards the
// input being typed.
var errInterrupt = errors.New("interrupted")

// Run runs the file of Options, if any, then reads, evaluates and prints
// until the input ends (Ctrl-D) or ctx is done. The lab stays as the
// inputs left it. The error is for failing to read input at all; inputs
// that fail are reported to Err and counted by Failed.
func (r *REPL) Run(ctx context.Context) error {
	// Applying the empty lab starts a dry run's script with its header.
	if err := r.sess.Sync(ctx); err != nil {
		return err
	}
	if r.opts.File != "" {
		r.runFile(ctx)
	}
	g := r.sess.REPLGlobals()
	g["save"] = starlark.NewBuiltin("save", r.save)

	var in lineReader
	if r.opts.Terminal {
		// Prompts and echo go to Err, as Python's do, so that values
		// redirected from Out come without them.
		tr, err := newTerminalReader(ctx, r.opts.HistoryFile, &completer{globals: func() starlark.StringDict { return r.sess.Globals }}, r.opts.Err)
		if err != nil {
			return err
		}
		in = tr
	} else {
		in = newPlainReader(r.opts.In)
	}
	defer in.Close()

	for ctx.Err() == nil {
		f, text, err := r.read(ctx, in)
		switch {
		case errors.Is(err, errInterrupt):
			continue
		case err == io.EOF, ctx.Err() != nil:
			return nil
		case err != nil:
			var se syntax.Error
			if !errors.As(err, &se) {
				return err
			}
			r.failed++
			fmt.Fprintln(r.opts.Err, interp.FormatError(err))
			continue
		}
		if len(f.Stmts) == 0 {
			continue
		}
		r.eval(ctx, f, text)
	}
	return nil
}

// read reads one complete input and parses it. Its positions count lines
// from the start of the session. At the end of the input it returns io.EOF;
// an input cut short by the end is completed as if by an empty line.
func (r *REPL) read(ctx context.Context, in lineReader) (*syntax.File, string, error) {
	var (
		lines    []string
		fed      []int // for each line the parser saw, its index in lines
		eof      bool
		inputErr error
	)
	next := func(prompt string) (string, error) {
		if len(r.pending) > 0 {
			line := r.pending[0]
			r.pending = r.pending[1:]
			return line, nil
		}
		return in.ReadLine(ctx, prompt)
	}
	readline := func() ([]byte, error) {
		if eof {
			return nil, io.EOF
		}
		prompt := ps1
		if len(lines) > 0 {
			prompt = ps2
		}
		line, err := next(prompt)
		// Inside a block only an empty line ends it, not a comment: the
		// parser would take a comment line for an empty one.
		for err == nil && len(lines) > 0 && strings.HasPrefix(strings.TrimSpace(line), "#") {
			lines = append(lines, line)
			line, err = next(ps2)
		}
		if err != nil {
			if err == io.EOF {
				eof = true
				if len(lines) > 0 {
					return []byte("\n"), nil // end the block
				}
			}
			inputErr = err
			return nil, err
		}
		fed = append(fed, len(lines))
		lines = append(lines, line)
		return []byte(line + "\n"), nil
	}
	first := r.line + 1
	opts := interp.FileOptions()
	f, err := opts.ParseCompoundStmt(Filename, readline)
	if inputErr != nil {
		r.line += len(lines)
		return nil, "", inputErr
	}
	if err != nil {
		r.line += len(lines)
		var se syntax.Error
		if errors.As(err, &se) {
			if eof {
				se.Msg = "unexpected end of input"
			}
			// The parser numbers the lines of each input from 1.
			name := se.Pos.Filename()
			se.Pos = syntax.MakePosition(&name, se.Pos.Line+int32(first-1), se.Pos.Col)
			return nil, "", se
		}
		return nil, "", err
	}
	// To see where a compound statement ends, the parser reads the line
	// after it: unless that is the empty line ending a block, it starts
	// the next input.
	if n := len(f.Stmts); n > 0 {
		_, end := f.Stmts[n-1].Span()
		if k := int(end.Line); k >= 1 && k <= len(fed) && fed[k-1]+1 < len(lines) {
			used := fed[k-1] + 1
			rest := lines[used:]
			for len(rest) > 0 && strings.TrimSpace(rest[0]) == "" {
				rest = rest[1:]
				used++
			}
			r.pending = append(rest, r.pending...)
			lines = lines[:used]
		}
	}
	r.line += len(lines)
	// Parse the input again, now numbered as part of the session.
	text := strings.Join(lines, "\n") + "\n"
	f, err = opts.Parse(Filename, syntax.FilePortion{Content: []byte(text), FirstLine: int32(first), FirstCol: 1}, 0)
	if err != nil {
		return nil, "", err
	}
	return f, text, nil
}

// eval runs one input and prints its value, or its error.
func (r *REPL) eval(ctx context.Context, f *syntax.File, text string) {
	g := r.sess.REPLGlobals()
	saved := maps.Clone(g)
	mark := r.sess.Lab.Mark()
	var v starlark.Value
	err := r.attempt(ctx, func(ctx context.Context) error {
		var err error
		v, err = r.sess.ExecChunk(ctx, f)
		return err
	})
	if err != nil {
		// Undo the bindings of a failed input too, so no name refers to
		// what was just rolled back. (Mutations of lists or dicts stay.)
		for k := range g {
			if _, ok := saved[k]; !ok {
				delete(g, k)
			}
		}
		maps.Copy(g, saved)
		return
	}
	r.history.add(f, text, r.sess.Lab.Mark() != mark, g, r.sess.Predeclared())
	if v != nil && v != starlark.None {
		if s := builtins.Describe(r.sess.Lab, v); s != "" {
			fmt.Fprintln(r.opts.Out, s)
		}
	}
}

// runFile runs the file of Options before the prompt. When it fails,
// nothing of it stays: not what it applied, nor its globals.
func (r *REPL) runFile(ctx context.Context) {
	src, err := os.ReadFile(r.opts.File)
	if err != nil {
		r.failed++
		fmt.Fprintln(r.opts.Err, err)
		return
	}
	err = r.attempt(ctx, func(ctx context.Context) error {
		return r.sess.ExecFile(ctx, r.opts.File, src)
	})
	if err != nil {
		r.sess.Globals = nil
		fmt.Fprintf(r.opts.Err, "nothing of %s was kept; the prompt starts from an empty lab\n", r.opts.File)
		return
	}
	r.history.file, r.history.fileSrc = r.opts.File, string(src)
}

// attempt runs fn (one input, or the file) so that it happens entirely or
// not at all: when fn fails, the error is printed, what fn applied is
// rolled back and what it declared is forgotten. Ctrl-C cancels fn.
func (r *REPL) attempt(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer r.watchInterrupts(cancel)()

	mark := r.sess.Lab.Mark()
	var undo func(context.Context) error
	if r.opts.Savepoint != nil {
		undo = r.opts.Savepoint()
	}
	err := fn(ctx)
	if err == nil {
		return nil
	}
	r.failed++
	fmt.Fprintln(r.opts.Err, interp.FormatError(err))
	if r.sess.Lab.Mark() != mark {
		if undo != nil {
			// Undoing must finish even when fn was cancelled.
			if uerr := undo(context.WithoutCancel(ctx)); uerr != nil {
				fmt.Fprintf(r.opts.Err, "rolling back failed too: %v\nThe lab may hold part of this input; leave the prompt and run `nsscript down %s` to remove the whole lab.\n", uerr, r.sess.Lab.Name)
			}
		}
		r.sess.Lab.Truncate(mark)
	}
	return err
}

// watchInterrupts cancels the running input on Ctrl-C, until the
// returned function is called.
func (r *REPL) watchInterrupts(cancel func()) (stop func()) {
	ch := r.opts.Interrupt
	if ch == nil {
		return func() {}
	}
	// A Ctrl-C from before this input is not meant for it.
	for len(ch) > 0 {
		<-ch
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ch:
			cancel()
		case <-done:
		}
	}()
	return func() { close(done) }
}
