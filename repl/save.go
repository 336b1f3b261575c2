package repl

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// history is what save() writes: the file run before the prompt, and the
// inputs that built the lab, in the order they ran.
//
// The rule: every input that succeeded is kept, except pure queries. A pure
// query is a sole expression that declared nothing and calls nothing but
// builtins that only look (show(), help(), len(), print(), ...): a bare
// name, an attribute, show(). Everything else may matter to the lab, even
// when it declared nothing itself: a def or an assignment that a later
// input uses, a list.append(), an exec() that changed the network behind
// nsscript's back. Failed inputs are never kept: they left nothing behind.
type history struct {
	file, fileSrc string
	inputs        []*input
	lastExpr      *input // the input that set _ last
}

// input is one input that succeeded.
type input struct {
	text string // as typed, ending in a newline
	expr bool   // a sole expression statement, whose value became _
	keep bool
	// bindUnderscore writes the input as `_ = expr`, because a later
	// input that is kept reads _.
	bindUnderscore bool
}

// queryBuiltins are the builtins that only look: a sole expression that
// calls nothing else is not worth saving.
var queryBuiltins = map[string]bool{
	"help": true, "show": true, "net": true, "save": true, "print": true,
	"dir": true, "type": true, "len": true, "str": true, "repr": true,
	"hasattr": true, "getattr": true, "sorted": true, "list": true,
	"tuple": true, "dict": true, "bool": true, "int": true, "float": true,
	"range": true, "enumerate": true, "zip": true, "any": true, "all": true,
	"min": true, "max": true, "reversed": true, "abs": true, "hash": true,
	"set": true, "chr": true, "ord": true, "bytes": true,
}

// add records an input that succeeded. f has been resolved and run in
// globals; changedLab says whether it declared anything.
func (h *history) add(f *syntax.File, text string, changedLab bool, globals, predeclared starlark.StringDict) {
	in := &input{
		text: strings.TrimRight(text, "\n") + "\n",
		expr: soleExpr(f) != nil,
	}
	in.keep = changedLab || !pureQuery(f, globals, predeclared)
	if in.keep && readsUnderscore(f) && h.lastExpr != nil {
		h.lastExpr.keep, h.lastExpr.bindUnderscore = true, true
	}
	h.inputs = append(h.inputs, in)
	if in.expr {
		h.lastExpr = in
	}
}

func soleExpr(f *syntax.File) syntax.Expr {
	if len(f.Stmts) == 1 {
		if s, ok := f.Stmts[0].(*syntax.ExprStmt); ok {
			return s.X
		}
	}
	return nil
}

// pureQuery reports whether f is a sole expression whose calls all go to
// builtins that only look.
func pureQuery(f *syntax.File, globals, predeclared starlark.StringDict) bool {
	x := soleExpr(f)
	if x == nil {
		return false
	}
	pure := true
	syntax.Walk(x, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok {
			return pure
		}
		id, ok := call.Fn.(*syntax.Ident)
		if !ok || !queryBuiltins[id.Name] {
			pure = false
			return false
		}
		// The name must still be the builtin, not a function of the user's.
		v, ok := globals[id.Name]
		if !ok {
			v = starlark.Universe[id.Name]
		}
		b, ok := v.(*starlark.Builtin)
		if !ok {
			pure = false
			return false
		}
		p1, _ := predeclared[id.Name].(*starlark.Builtin)
		p2, _ := starlark.Universe[id.Name].(*starlark.Builtin)
		if b != p1 && b != p2 && !(id.Name == "save" && b.Receiver() == nil && b.Name() == "save") {
			pure = false
		}
		return pure
	})
	return pure
}

// readsUnderscore reports whether resolved f reads the global _, the value
// of the last expression.
func readsUnderscore(f *syntax.File) bool {
	written := map[*syntax.Ident]bool{}
	var targets func(e syntax.Expr)
	targets = func(e syntax.Expr) {
		switch e := e.(type) {
		case *syntax.Ident:
			written[e] = true
		case *syntax.TupleExpr:
			for _, x := range e.List {
				targets(x)
			}
		case *syntax.ListExpr:
			for _, x := range e.List {
				targets(x)
			}
		case *syntax.ParenExpr:
			targets(e.X)
		}
	}
	var top func(stmts []syntax.Stmt)
	top = func(stmts []syntax.Stmt) {
		for _, s := range stmts {
			switch s := s.(type) {
			case *syntax.AssignStmt:
				if s.Op == syntax.EQ {
					targets(s.LHS)
				}
			case *syntax.ForStmt:
				targets(s.Vars)
				top(s.Body)
			case *syntax.IfStmt:
				top(s.True)
				top(s.False)
			case *syntax.WhileStmt:
				top(s.Body)
			}
		}
	}
	top(f.Stmts)

	reads := false
	syntax.Walk(f, func(n syntax.Node) bool {
		id, ok := n.(*syntax.Ident)
		if !ok || id.Name != "_" || written[id] {
			return !reads
		}
		if b, ok := id.Binding.(*resolve.Binding); ok && (b.Scope == resolve.Global || b.Scope == resolve.Predeclared) {
			reads = true
		}
		return !reads
	})
	return reads
}

// save(path=None) writes the script that rebuilds the lab.
func (r *REPL) save(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "path?", &path); err != nil {
		return nil, err
	}
	if path == "" {
		path = r.sess.Lab.Name + ".star"
	}
	text, n := r.Script(path)
	if err := writeFileAtomic(path, []byte(text)); err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	what := fmt.Sprintf("%d statements", n)
	if n == 1 {
		what = "1 statement"
	}
	if r.history.file != "" {
		what = r.history.file + " and " + what
	}
	fmt.Fprintf(r.opts.Out, "saved %s to %s\n", what, path)
	return starlark.None, nil
}

// Script returns the script that rebuilds the lab as the session has built
// it so far, as save(path) writes it, and how many inputs it holds. It
// starts with the session's --var values, if any (assigned to vars), then
// the text of the file run before the prompt, then the kept inputs.
func (r *REPL) Script(path string) (string, int) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Lab %s as built at the nsscript repl prompt: the statements that\n", r.sess.Lab.Name)
	fmt.Fprintf(&b, "# changed it or defined names, in the order they ran. Rebuild it (once\n")
	fmt.Fprintf(&b, "# lab %s is down) with: nsscript run %s\n", r.sess.Lab.Name, path)
	if d, ok := r.sess.Predeclared()["vars"].(*starlark.Dict); ok && d.Len() > 0 {
		fmt.Fprintf(&b, "\n# The --var values of the session.\nvars = %s\n", d)
	}
	if r.history.file != "" {
		fmt.Fprintf(&b, "\n# From %s, run before the prompt.\n", r.history.file)
		b.WriteString(r.history.fileSrc)
		if !strings.HasSuffix(r.history.fileSrc, "\n") {
			b.WriteByte('\n')
		}
		b.WriteString("\n# At the prompt.\n")
	} else {
		b.WriteByte('\n')
	}
	n := 0
	prevBlock := false
	for _, in := range r.history.inputs {
		if !in.keep {
			continue
		}
		n++
		// Blocks stand apart, as in a script, and a later line at the
		// same level must not look like part of them.
		block := strings.Count(in.text, "\n") > 1 || strings.HasSuffix(strings.TrimSpace(strings.SplitN(in.text, "\n", 2)[0]), ":")
		if (block || prevBlock) && n > 1 {
			b.WriteByte('\n')
		}
		prevBlock = block
		if in.bindUnderscore {
			b.WriteString("_ = ")
		}
		b.WriteString(in.text)
	}
	return b.String(), n
}

// writeFileAtomic replaces path with data, so that an interrupted save
// never leaves half a script.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
