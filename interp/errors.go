package interp

import (
	"fmt"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"nsscript/topo"
)

// Positioned is implemented by errors that know which script call they are
// about, such as an error of the kernel layer applying one resource.
// FormatError prints that position rather than the one where the script
// was when the error surfaced. A *topo.Error is positioned too.
type Positioned interface {
	error
	ScriptPos() topo.Pos
}

// FormatError renders err as the CLI prints it: the position of the
// innermost script frame (or the position the error itself carries),
// then the message, which for a builtin starts with the builtin's name:
//
//	lab.star:12:5: veth: interface name "a-very-long-name" is 16 bytes; Linux allows at most 15
//
// followed by the Starlark backtrace when the error happened inside a
// function or a loaded file, or was found at another position than the
// call that reported it. The result has no trailing newline.
func FormatError(err error) string {
	if err == nil {
		return ""
	}
	ee := innermostEvalError(err)
	var inner error = err
	if ee != nil {
		inner = ee.Unwrap()
	}

	var b strings.Builder
	headPos, head := positioned(inner)
	switch {
	case head != "":
		b.WriteString(head)
	case ee != nil:
		fr, ok := scriptFrame(ee.CallStack)
		if ok {
			headPos = fr.Pos.String()
			b.WriteString(headPos + ": ")
		}
		b.WriteString(ee.Msg)
	default:
		b.WriteString(err.Error())
	}

	if ee != nil {
		frames := ee.CallStack
		if n := len(frames); n > 0 && frames[n-1].Pos.Filename() == "<builtin>" {
			frames = frames[:n-1]
		}
		if len(frames) > 1 || len(frames) == 1 && frames[0].Pos.String() != headPos {
			b.WriteString("\nTraceback (most recent call last):")
			for _, fr := range frames {
				fmt.Fprintf(&b, "\n  %s: in %s", fr.Pos, fr.Name)
			}
		}
	}
	return b.String()
}

// innermostEvalError returns the deepest *starlark.EvalError in err's
// chain: an error in a loaded file reaches the loading file wrapped in the
// loader's own EvalError.
func innermostEvalError(err error) *starlark.EvalError {
	var found *starlark.EvalError
	walk(err, func(e error) bool {
		if ee, ok := e.(*starlark.EvalError); ok {
			found = ee
		}
		return false
	})
	return found
}

// positioned finds the first error in err's chain that carries its own
// script position, and returns that position and the error's full text.
func positioned(err error) (pos, text string) {
	walk(err, func(e error) bool {
		switch e := e.(type) {
		case *topo.Error:
			pos, text = e.Pos.String(), e.Error()
		case Positioned:
			pos = e.ScriptPos().String()
			text = pos + ": " + strings.TrimPrefix(e.Error(), pos+": ")
		case syntax.Error:
			pos, text = e.Pos.String(), e.Error()
		case resolve.ErrorList:
			lines := make([]string, len(e))
			for i, re := range e {
				lines[i] = re.Pos.String() + ": " + re.Msg
			}
			pos, text = e[0].Pos.String(), strings.Join(lines, "\n")
		default:
			return false
		}
		return true
	})
	return pos, text
}

// walk calls fn on err and the errors it wraps, depth first, until fn
// returns true.
func walk(err error, fn func(error) bool) bool {
	if err == nil {
		return false
	}
	if fn(err) {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return walk(u.Unwrap(), fn)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if walk(e, fn) {
				return true
			}
		}
	}
	return false
}

// scriptFrame returns the innermost frame of stack that runs script code
// rather than a builtin.
func scriptFrame(stack starlark.CallStack) (starlark.CallFrame, bool) {
	for i := len(stack) - 1; i >= 0; i-- {
		if stack[i].Pos.Filename() != "<builtin>" {
			return stack[i], true
		}
	}
	return starlark.CallFrame{}, false
}
