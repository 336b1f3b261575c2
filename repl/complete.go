package repl

import (
	"slices"
	"strings"
	"unicode"

	"go.starlark.net/starlark"

	"nsscript/builtins"
)

// completer completes the word before the cursor, for readline's Tab:
//
//   - after a dot, the attributes of the value before it (uplink.a.na →
//     uplink.a.name), when that is a chain of names;
//   - inside a call's parentheses, the keyword arguments the function takes
//     and that the call does not give yet (veth(red, blue, pe → peer=),
//     then the names below;
//   - otherwise globals, builtins and keywords (vet → veth().
//
// Functions complete with their "(", keyword arguments with their "=". Tab
// on a line of blanks indents by four spaces. Nothing completes inside a
// string or a comment.
type completer struct {
	globals func() starlark.StringDict
}

// Do implements readline.AutoCompleter: it returns the completions'
// suffixes after the word, and the word's length.
func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	word, cands := c.complete(string(line[:pos]))
	out := make([][]rune, len(cands))
	for i, s := range cands {
		out[i] = []rune(s[len(word):])
	}
	return out, len([]rune(word))
}

var keywords = []string{
	"and", "break", "continue", "def", "elif", "else", "for", "if", "in",
	"lambda", "load", "not", "or", "pass", "return", "while",
}

// complete returns the word before the end of text and its completions,
// sorted, each including the word.
func (c *completer) complete(text string) (word string, cands []string) {
	if strings.TrimSpace(text) == "" {
		return "", []string{"    "}
	}
	sc := scanLine(text)
	if sc.inString || sc.inComment {
		return "", nil
	}
	word = trailingIdent(text)
	if word != "" && !isIdentStart(rune(word[0])) {
		return "", nil // a number
	}
	before := text[:len(text)-len(word)]

	if strings.HasSuffix(before, ".") {
		chain := trailingChain(before[:len(before)-1])
		v, ok := c.lookup(chain)
		if !ok {
			return word, nil
		}
		if ha, ok := v.(starlark.HasAttrs); ok {
			for _, name := range ha.AttrNames() {
				if !strings.HasPrefix(name, word) {
					continue
				}
				if a, err := ha.Attr(name); err == nil {
					cands = append(cands, name+callSuffix(a))
				}
			}
		}
		slices.Sort(cands)
		return word, cands
	}

	// Keyword arguments of the call the cursor is in, where an argument
	// starts.
	argStart := strings.HasSuffix(strings.TrimRightFunc(before, unicode.IsSpace), "(") ||
		strings.HasSuffix(strings.TrimRightFunc(before, unicode.IsSpace), ",")
	if f := sc.innermost(); argStart && f != nil && f.open == '(' && f.callee != "" {
		if fn, ok := c.lookup(f.callee); ok {
			for _, p := range params(fn) {
				if strings.HasPrefix(p, word) && !f.kwargs[p] {
					cands = append(cands, p+"=")
				}
			}
		}
	}
	if word == "" {
		slices.Sort(cands)
		return word, cands
	}

	seen := map[string]bool{}
	add := func(name string, v starlark.Value) {
		if seen[name] || !strings.HasPrefix(name, word) || strings.HasPrefix(name, "_") && !strings.HasPrefix(word, "_") {
			return
		}
		seen[name] = true
		cands = append(cands, name+callSuffix(v))
	}
	for name, v := range c.globals() {
		add(name, v)
	}
	for name, v := range starlark.Universe {
		add(name, v)
	}
	for _, k := range keywords {
		add(k, nil)
	}
	slices.Sort(cands)
	return word, slices.Compact(cands)
}

// lookup evaluates a chain of names such as "uplink.a" in the globals,
// without calling anything.
func (c *completer) lookup(chain string) (starlark.Value, bool) {
	if chain == "" {
		return nil, false
	}
	parts := strings.Split(chain, ".")
	v, ok := c.globals()[parts[0]]
	if !ok {
		v, ok = starlark.Universe[parts[0]]
	}
	if !ok {
		return nil, false
	}
	for _, name := range parts[1:] {
		ha, ok := v.(starlark.HasAttrs)
		if !ok {
			return nil, false
		}
		a, err := ha.Attr(name)
		if err != nil || a == nil {
			return nil, false
		}
		v = a
	}
	return v, true
}

// params returns the names that fn accepts as keyword arguments.
func params(fn starlark.Value) []string {
	switch fn := fn.(type) {
	case *starlark.Builtin:
		if fn.Receiver() != nil {
			return nil
		}
		if d, ok := builtins.DocOf(fn.Name()); ok {
			return d.Params
		}
	case *starlark.Function:
		n := fn.NumParams()
		if fn.HasVarargs() {
			n--
		}
		if fn.HasKwargs() {
			n--
		}
		out := make([]string, n)
		for i := range out {
			out[i], _ = fn.Param(i)
		}
		return out
	}
	return nil
}

func callSuffix(v starlark.Value) string {
	if _, ok := v.(starlark.Callable); ok {
		return "("
	}
	return ""
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isIdentRune(r rune) bool { return isIdentStart(r) || unicode.IsDigit(r) }

// trailingIdent returns the identifier characters at the end of s.
func trailingIdent(s string) string {
	i := strings.LastIndexFunc(s, func(r rune) bool { return !isIdentRune(r) })
	return s[i+1:]
}

// trailingChain returns the chain of dotted names at the end of s, such
// as "uplink.a", or "" when s does not end in one (as after a call).
func trailingChain(s string) string {
	i := strings.LastIndexFunc(s, func(r rune) bool { return !isIdentRune(r) && r != '.' })
	chain := s[i+1:]
	for _, part := range strings.Split(chain, ".") {
		if part == "" || !isIdentStart(rune(part[0])) {
			return ""
		}
	}
	return chain
}

// lineScan is what scanLine learns about a line up to the cursor.
type lineScan struct {
	inString, inComment bool
	frames              []*frame // open brackets, innermost last
}

// frame is an open bracket: for a call's parenthesis, the function called
// and the keyword arguments given so far.
type frame struct {
	open   rune
	callee string
	kwargs map[string]bool
}

func (s *lineScan) innermost() *frame {
	if len(s.frames) == 0 {
		return nil
	}
	return s.frames[len(s.frames)-1]
}

// scanLine follows strings, comments and brackets through one line.
func scanLine(text string) lineScan {
	var s lineScan
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '#':
			s.inComment = true
			return s
		case r == '"' || r == '\'':
			quote := string(r)
			if i+2 < len(rs) && rs[i+1] == r && rs[i+2] == r {
				quote = strings.Repeat(quote, 3)
			}
			i += len(quote)
			closed := false
			for ; i < len(rs); i++ {
				if rs[i] == '\\' {
					i++
					continue
				}
				if strings.HasPrefix(string(rs[i:]), quote) {
					i += len(quote) - 1
					closed = true
					break
				}
			}
			if !closed {
				s.inString = true
				return s
			}
		case r == '(' || r == '[' || r == '{':
			f := &frame{open: r, kwargs: map[string]bool{}}
			if r == '(' {
				f.callee = trailingChain(strings.TrimRightFunc(string(rs[:i]), unicode.IsSpace))
			}
			s.frames = append(s.frames, f)
		case r == ')' || r == ']' || r == '}':
			if len(s.frames) > 0 {
				s.frames = s.frames[:len(s.frames)-1]
			}
		case r == '=':
			next := i+1 < len(rs) && rs[i+1] == '='
			prev := i > 0 && strings.ContainsRune("=!<>", rs[i-1])
			if f := s.innermost(); f != nil && f.open == '(' && !next && !prev {
				name := trailingIdent(strings.TrimRightFunc(string(rs[:i]), unicode.IsSpace))
				f.kwargs[name] = true
			}
			if next {
				i++
			}
		}
	}
	return s
}
