package builtins

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.starlark.net/starlark"

	"nsscript/topo"
)

// Argument types that check themselves, for starlark.UnpackArgs. Each
// error names what it got and what would be valid; UnpackArgs prefixes the
// builtin and parameter.

// namespace is an argument naming a network namespace: a Netns value
// (host included). A name string is refused, with a hint, so a namespace
// the script never declared cannot slip through.
type namespace string

var _ starlark.Unpacker = (*namespace)(nil)

func (n *namespace) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case Netns:
		*n = namespace(v.name)
		return nil
	case starlark.String:
		return fmt.Errorf("got string %s, want a netns such as host or the value of netns(%s)", v, v)
	}
	return fmt.Errorf("got %s, want a netns (host or the value of netns(...))", v.Type())
}

// endpoint is where one end of a veth goes: a namespace, or a bridge (in
// the bridge's namespace, as its port).
type endpoint struct {
	ns     string
	local  string // the local part of derived names: the namespace's or bridge's name
	master string // the bridge, when the end is its port
}

var _ starlark.Unpacker = (*endpoint)(nil)

func (e *endpoint) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case Netns:
		*e = endpoint{ns: v.name, local: topo.NSName(v.name)}
		return nil
	case Bridge:
		*e = endpoint{ns: v.br.NS, local: v.br.Name, master: v.br.Name}
		return nil
	case starlark.String:
		return fmt.Errorf("got string %s, want a netns, host or a bridge: pass the value of netns(%s) or bridge(%s), not its name", v, v, v)
	}
	return fmt.Errorf("got %s, want a netns, host or a bridge", v.Type())
}

// link is an interface recorded in the lab that can carry addresses: a
// Bridge or a veth end.
type link struct{ ns, name string }

var _ starlark.Unpacker = (*link)(nil)

func (l *link) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case Bridge:
		*l = link{v.br.NS, v.br.Name}
		return nil
	case Iface:
		e := v.End()
		*l = link{e.NS, e.Name}
		return nil
	case Veth:
		return fmt.Errorf("got a whole veth %s, want one of its ends: .a or .b", v)
	}
	return fmt.Errorf("got %s, want a bridge or a veth end (such as v.a)", v.Type())
}

// device is an interface given by name, or by value (a Bridge or a veth
// end), which also says its namespace.
type device struct {
	ns, name string
	byValue  bool
}

var _ starlark.Unpacker = (*device)(nil)

func (d *device) Unpack(v starlark.Value) error {
	if s, ok := v.(starlark.String); ok {
		*d = device{name: string(s)}
		return nil
	}
	var l link
	if err := l.Unpack(v); err != nil {
		return fmt.Errorf("got %s, want an interface name, a bridge or a veth end (such as v.a)", v.Type())
	}
	*d = device{l.ns, l.name, true}
	return nil
}

// inNS checks that d, when given by value, is in namespace ns.
func (d device) inNS(param, ns string) error {
	if d.byValue && d.ns != ns {
		return fmt.Errorf("%s %s is in namespace %s, not %s; use an interface of %s", param, d.name, topo.NSName(d.ns), topo.NSName(ns), topo.NSName(ns))
	}
	return nil
}

// unpackArgs is starlark.UnpackArgs with a better message for a misspelt
// keyword: it names the nearest parameter among all of them, and lists
// what the builtin takes.
func unpackArgs(fnname string, args starlark.Tuple, kwargs []starlark.Tuple, pairs ...any) error {
	err := starlark.UnpackArgs(fnname, args, kwargs, pairs...)
	if err == nil {
		return nil
	}
	params := make([]string, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		params = append(params, strings.TrimRight(pairs[i].(string), "?"))
	}
	for _, kw := range kwargs {
		name := string(kw[0].(starlark.String))
		if slices.Contains(params, name) {
			continue
		}
		msg := fmt.Sprintf("%s: unexpected keyword argument %q", fnname, name)
		if near := nearest(name, params); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", near)
		}
		return fmt.Errorf("%s; %s takes %s", msg, fnname, strings.Join(params, ", "))
	}
	return withValue(err, params, args, kwargs)
}

// typeMismatch matches UnpackArgs' "for parameter NAME: got TYPE, want ..."
// for the plain types it checks itself, which name no value.
var typeMismatch = regexp.MustCompile(`for parameter "?(\w+)"?: got (\w+), want`)

// withValue adds the offending value to a type mismatch reported by
// UnpackArgs: "got string "1500", want int" rather than "got string, want
// int".
func withValue(err error, params []string, args starlark.Tuple, kwargs []starlark.Tuple) error {
	m := typeMismatch.FindStringSubmatchIndex(err.Error())
	if m == nil {
		return err
	}
	msg := err.Error()
	name := msg[m[2]:m[3]]
	var value starlark.Value
	if i := slices.Index(params, name); i >= 0 && i < len(args) {
		value = args[i]
	}
	for _, kw := range kwargs {
		if string(kw[0].(starlark.String)) == name {
			value = kw[1]
		}
	}
	if value == nil {
		return err
	}
	repr := value.String()
	if len(repr) > 40 {
		repr = repr[:37] + "..."
	}
	return fmt.Errorf("%s %s%s", msg[:m[5]], repr, msg[m[5]:])
}

// nearest returns the candidate closest to name in edit distance, if it is
// close enough to be a likely misspelling.
func nearest(name string, candidates []string) string {
	best, bestDist := "", len(name)/3+2
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
