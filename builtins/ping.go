package builtins

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"nsscript/topo"
)

// Reachability checks: ping, pingall, expect_reach and expect_no_reach.
// Each applies the lab declared so far, then has the backend send ICMP
// echo requests (natively, through raw sockets, in the kernel backend) and
// reports what came back.

// Bounds of the count= and timeout= arguments.
const (
	maxCount   = 100
	maxTimeout = time.Minute
)

// pingCount is the count= argument: how many echo requests per pair.
type pingCount int

var _ starlark.Unpacker = (*pingCount)(nil)

func (c *pingCount) Unpack(v starlark.Value) error {
	var n int
	if err := starlark.AsInt(v, &n); err != nil {
		return fmt.Errorf("got %s %s, want an int from 1 to %d", v.Type(), v, maxCount)
	}
	if n < 1 || n > maxCount {
		return fmt.Errorf("count %d is out of range; use 1 to %d", n, maxCount)
	}
	*c = pingCount(n)
	return nil
}

// duration is the timeout= argument: a string such as "1s" or "250ms",
// or a number of seconds.
type duration time.Duration

var _ starlark.Unpacker = (*duration)(nil)

func (d *duration) Unpack(v starlark.Value) error {
	var t time.Duration
	switch v := v.(type) {
	case starlark.String:
		var err error
		if t, err = time.ParseDuration(string(v)); err != nil {
			return fmt.Errorf("%s is not a duration; want e.g. \"1s\" or \"250ms\"", v)
		}
	case starlark.Int, starlark.Float:
		f, _ := starlark.AsFloat(v)
		t = time.Duration(f * float64(time.Second))
	default:
		return fmt.Errorf("got %s, want a duration such as \"1s\" or a number of seconds", v.Type())
	}
	if t <= 0 || t > maxTimeout {
		return fmt.Errorf("timeout %s is out of range; use more than 0 and at most %v", v, maxTimeout)
	}
	*d = duration(t)
	return nil
}

// String formats d as messages show a timeout: "1s", "250ms".
func (d duration) String() string { return time.Duration(d).String() }

// target is a resolved destination: the address pinged, and how messages
// name it.
type target struct {
	label string // "blue (10.0.0.2)", "10.0.0.9"
	name  string // a namespace's or interface's name; the address for an address
	ns    string // the namespace, when given as a netns; for skipping self pairs
	isNS  bool
	addr  netip.Addr
}

// firstAddr returns the first address the lab declares on interface dev
// of ns (any interface when dev is ""), skipping IPv6 link-local ones,
// which need a zone to be pinged.
func firstAddr(lab *topo.Lab, ns, dev string) (netip.Addr, bool) {
	for _, a := range lab.Addrs {
		if a.NS != ns || (dev != "" && a.Dev != dev) {
			continue
		}
		if ip := a.Prefix.Addr(); !(ip.Is6() && ip.IsLinkLocalUnicast()) {
			return ip, true
		}
	}
	return netip.Addr{}, false
}

// resolveTarget turns a dst argument into the address to ping: an address
// string (a CIDR is taken for its address), or the first address of a
// netns, a bridge or a veth end.
func resolveTarget(lab *topo.Lab, v starlark.Value) (target, error) {
	switch v := v.(type) {
	case starlark.String:
		s := string(v)
		a, err := netip.ParseAddr(s)
		if err != nil {
			p, perr := netip.ParsePrefix(s)
			if perr != nil {
				return target{}, fmt.Errorf("%q is not an IP address; want e.g. \"10.0.0.2\" or \"fd00::2\", or a netns, bridge or veth end", s)
			}
			a = p.Addr()
		}
		return target{label: a.String(), name: a.String(), addr: a}, nil
	case Netns:
		a, ok := firstAddr(lab, v.name, "")
		if !ok {
			return target{}, fmt.Errorf("namespace %s has no address in this lab (yet); add one, or give the address to ping as a string", topo.NSName(v.name))
		}
		name := topo.NSName(v.name)
		return target{label: name + " (" + a.String() + ")", name: name, ns: v.name, isNS: true, addr: a}, nil
	case Bridge:
		a, ok := firstAddr(lab, v.br.NS, v.br.Name)
		if !ok {
			return target{}, fmt.Errorf("bridge %s has no address; give it one with addr=, or ping an address", v.br.Name)
		}
		return target{label: v.br.Name + " (" + a.String() + ")", name: v.br.Name, addr: a}, nil
	case Iface:
		e := v.End()
		a, ok := firstAddr(lab, e.NS, e.Name)
		if !ok {
			return target{}, fmt.Errorf("%s in %s has no address; give it one, or ping an address", e.Name, topo.NSName(e.NS))
		}
		return target{label: e.Name + " (" + a.String() + ")", name: e.Name, addr: a}, nil
	case Veth:
		return target{}, fmt.Errorf("got a whole veth %s, want one of its ends: .a or .b", v)
	}
	return target{}, fmt.Errorf("got %s, want an address string, a netns, a bridge or a veth end", v.Type())
}

// oneOrMore is an argument that is one value or a list (or tuple) of
// them.
type oneOrMore struct {
	vals []starlark.Value
	list bool // given as a list or tuple
}

var _ starlark.Unpacker = (*oneOrMore)(nil)

func (o *oneOrMore) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case *starlark.List:
		o.vals, o.list = make([]starlark.Value, v.Len()), true
		for i := range v.Len() {
			o.vals[i] = v.Index(i)
		}
	case starlark.Tuple:
		o.vals, o.list = v, true
	default:
		o.vals = []starlark.Value{v}
	}
	if len(o.vals) == 0 {
		return fmt.Errorf("the list is empty; give at least one")
	}
	return nil
}

// namespaces unpacks each of vals as a netns.
func namespaces(vals []starlark.Value) ([]string, error) {
	out := make([]string, len(vals))
	for i, v := range vals {
		var ns namespace
		if err := ns.Unpack(v); err != nil {
			if len(vals) > 1 || i > 0 {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			return nil, err
		}
		out[i] = string(ns)
	}
	return out, nil
}

// probe applies the lab declared so far and sends the probes. A probe that
// could not run at all is an error; one that went unanswered is a result.
func probe(thread *starlark.Thread, fn *starlark.Builtin, s *State, probes []topo.Probe, labels []string, count pingCount, timeout duration) ([]topo.ProbeResult, error) {
	if s.Backend == nil {
		return nil, fmt.Errorf("%s: this session only records the lab; it has no network to probe", fn.Name())
	}
	if err := syncNow(thread, fn, s); err != nil {
		return nil, err
	}
	results := s.Backend.Probe(Context(thread), probes, int(count), time.Duration(timeout))
	for i, r := range results {
		if r.Err != nil {
			return nil, fmt.Errorf("%s: %s → %s: %w", fn.Name(), topo.NSName(probes[i].Src), labels[i], r.Err)
		}
	}
	return results, nil
}

// observed says what a probe saw, as messages show it:
// "0 of 1 echo requests answered within 1s (sending failed: network is unreachable)".
func observed(r topo.ProbeResult, timeout duration) string {
	msg := fmt.Sprintf("%d of %d echo requests answered within %s", r.Received, r.Sent, timeout)
	if r.SendErr != nil && r.Received < r.Sent {
		msg += fmt.Sprintf(" (sending failed: %v)", r.SendErr)
	}
	return msg
}

// ping(src, dst, count=1, timeout="1s") reports whether dst answers echo
// requests sent from src.
func ping(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		src     namespace
		dst     starlark.Value
		count   = pingCount(1)
		timeout = duration(time.Second)
	)
	if err := unpackArgs(fn.Name(), args, kwargs, "src", &src, "dst", &dst, "count?", &count, "timeout?", &timeout); err != nil {
		return nil, err
	}
	s, err := stateFor(thread, fn)
	if err != nil {
		return nil, err
	}
	t, err := resolveTarget(s.Lab, dst)
	if err != nil {
		return nil, fmt.Errorf("%s: for parameter dst: %w", fn.Name(), err)
	}
	results, err := probe(thread, fn, s, []topo.Probe{{Src: string(src), Dst: t.addr}}, []string{t.label}, count, timeout)
	if err != nil {
		return nil, err
	}
	return starlark.Bool(results[0].Answered()), nil
}

// expect_reach(src, dst, count=1, timeout="1s") fails the script unless
// every dst answers from every src.
func expectReach(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return expect(thread, fn, args, kwargs, topo.ExpectReach)
}

// expect_no_reach(src, dst, count=1, timeout="1s") fails the script when
// any dst answers from any src.
func expectNoReach(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return expect(thread, fn, args, kwargs, topo.ExpectNoReach)
}

// maxListed bounds how many failed pairs an error lists.
const maxListed = 10

func expect(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, want topo.Expect) (starlark.Value, error) {
	var (
		srcArg, dstArg oneOrMore
		count          = pingCount(1)
		timeout        = duration(time.Second)
	)
	if err := unpackArgs(fn.Name(), args, kwargs, "src", &srcArg, "dst", &dstArg, "count?", &count, "timeout?", &timeout); err != nil {
		return nil, err
	}
	s, err := stateFor(thread, fn)
	if err != nil {
		return nil, err
	}
	srcs, err := namespaces(srcArg.vals)
	if err != nil {
		return nil, fmt.Errorf("%s: for parameter src: %w", fn.Name(), err)
	}
	dsts := make([]target, len(dstArg.vals))
	for i, v := range dstArg.vals {
		if dsts[i], err = resolveTarget(s.Lab, v); err != nil {
			if dstArg.list {
				err = fmt.Errorf("item %d: %w", i, err)
			}
			return nil, fmt.Errorf("%s: for parameter dst: %w", fn.Name(), err)
		}
	}
	var (
		probes []topo.Probe
		labels []string
	)
	for _, src := range srcs {
		for _, d := range dsts {
			// A list means every pair of two different namespaces; one
			// namespace asked to reach itself is probed.
			if d.isNS && d.ns == src && (srcArg.list || dstArg.list) {
				continue
			}
			probes = append(probes, topo.Probe{Src: src, Dst: d.addr, Expect: want})
			labels = append(labels, d.label)
		}
	}
	if len(probes) == 0 {
		return nil, fmt.Errorf("%s: no pair of a source and a different destination to probe", fn.Name())
	}
	results, err := probe(thread, fn, s, probes, labels, count, timeout)
	if err != nil {
		return nil, err
	}
	var failed []string
	for i, r := range results {
		if r.Answered() == (want == topo.ExpectReach) {
			continue
		}
		line := fmt.Sprintf("%s → %s: %s", topo.NSName(probes[i].Src), labels[i], observed(r, timeout))
		if want == topo.ExpectNoReach {
			line += "; expected no answer"
		}
		failed = append(failed, line)
	}
	switch {
	case len(failed) == 0:
		return starlark.None, nil
	case len(probes) == 1:
		return nil, fmt.Errorf("%s: %s", fn.Name(), failed[0])
	}
	listed, more := failed[:min(len(failed), maxListed)], ""
	if len(failed) > maxListed {
		more = fmt.Sprintf("\n    ... and %d more", len(failed)-maxListed)
	}
	return nil, fmt.Errorf("%s: %d of %d pairs failed:\n    %s%s", fn.Name(), len(failed), len(probes), strings.Join(listed, "\n    "), more)
}

// pingall(nodes=None, count=1, timeout="1s") probes every ordered pair of
// nodes.
func pingall(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		nodesArg starlark.Value = starlark.None
		count                   = pingCount(1)
		timeout                 = duration(time.Second)
	)
	if err := unpackArgs(fn.Name(), args, kwargs, "nodes?", &nodesArg, "count?", &count, "timeout?", &timeout); err != nil {
		return nil, err
	}
	s, err := stateFor(thread, fn)
	if err != nil {
		return nil, err
	}
	var nodes []target
	if nodesArg == starlark.None {
		// Every namespace of the lab that has an address to ping.
		for _, n := range s.Lab.Netns {
			if t, err := resolveTarget(s.Lab, Netns{n.Name}); err == nil {
				nodes = append(nodes, t)
			}
		}
	} else {
		var list oneOrMore
		if _, ok := nodesArg.(Netns); ok {
			return nil, fmt.Errorf("%s: for parameter nodes: got one netns, want a list of them", fn.Name())
		}
		if err := list.Unpack(nodesArg); err != nil {
			return nil, fmt.Errorf("%s: for parameter nodes: %w", fn.Name(), err)
		}
		for i, v := range list.vals {
			if _, ok := v.(Netns); !ok {
				return nil, fmt.Errorf("%s: for parameter nodes: item %d is %s, want a netns", fn.Name(), i, v.Type())
			}
			t, err := resolveTarget(s.Lab, v)
			if err != nil {
				return nil, fmt.Errorf("%s: for parameter nodes: item %d: %w", fn.Name(), i, err)
			}
			nodes = append(nodes, t)
		}
	}
	probes := make([]topo.Probe, 0, len(nodes)*max(len(nodes)-1, 0))
	labels := make([]string, 0, cap(probes))
	for _, src := range nodes {
		for _, dst := range nodes {
			if src.ns != dst.ns {
				probes = append(probes, topo.Probe{Src: src.ns, Dst: dst.addr})
				labels = append(labels, dst.label)
			}
		}
	}
	var results []topo.ProbeResult
	if len(probes) > 0 {
		if results, err = probe(thread, fn, s, probes, labels, count, timeout); err != nil {
			return nil, err
		}
	}
	r := &Reachability{}
	for _, n := range nodes {
		r.names = append(r.names, n.name)
	}
	k := 0
	for i := range nodes {
		row := make([]bool, len(nodes))
		for j := range nodes {
			if nodes[i].ns == nodes[j].ns {
				row[j] = true
				continue
			}
			res := results[k]
			k++
			r.sent += res.Sent
			r.received += res.Received
			row[j] = res.Answered()
			if !row[j] {
				r.failed = append(r.failed, [2]string{nodes[i].name, nodes[j].name})
			}
		}
		r.answered = append(r.answered, row)
	}
	r.pairs = len(probes)
	return r, nil
}

// Reachability is what pingall() returns: which of its nodes answered
// which. It is true when every pair answered, and prints as a matrix in
// the style of Mininet's pingall:
//
//	red -> blue green
//	blue -> red X
//	green -> red X
//	*** Results: 33% dropped (4/6 received)
type Reachability struct {
	names          []string
	answered       [][]bool // [src][dst]
	pairs          int
	sent, received int
	failed         [][2]string
}

var _ starlark.HasAttrs = (*Reachability)(nil)

// String returns the matrix: one line per source naming each destination
// that answered, X for each that did not, then the summary.
func (r *Reachability) String() string {
	var b strings.Builder
	for i, src := range r.names {
		b.WriteString(src + " ->")
		for j, dst := range r.names {
			if i == j {
				continue
			}
			if r.answered[i][j] {
				b.WriteString(" " + dst)
			} else {
				b.WriteString(" X")
			}
		}
		b.WriteByte('\n')
	}
	b.WriteString("*** Results: " + r.Summary())
	return b.String()
}

// Summary is the matrix's last line without its "*** Results: " prefix:
// "0% dropped (9900/9900 received)".
func (r *Reachability) Summary() string {
	if r.sent == 0 {
		return "no pairs to probe (pingall needs two namespaces with addresses)"
	}
	lost := r.sent - r.received
	pct := strconv.Itoa(100 * lost / r.sent)
	if lost > 0 && pct == "0" {
		pct = "<1"
	}
	return fmt.Sprintf("%s%% dropped (%d/%d received)", pct, r.received, r.sent)
}

// Pairs returns the number of (src, dst) pairs probed.
func (r *Reachability) Pairs() int { return r.pairs }

// Failed returns the pairs that got no answer, as {src, dst} names.
func (r *Reachability) Failed() [][2]string { return append([][2]string(nil), r.failed...) }

// Type returns "reachability".
func (r *Reachability) Type() string { return "reachability" }

// Freeze does nothing: a Reachability is immutable.
func (r *Reachability) Freeze() {}

// Truth reports whether every pair answered.
func (r *Reachability) Truth() starlark.Bool { return len(r.failed) == 0 }

// Hash hashes the matrix.
func (r *Reachability) Hash() (uint32, error) { return hashString("reachability", r.String()), nil }

// Attr returns the attribute name: .sent, .received, .pairs or .failed.
func (r *Reachability) Attr(name string) (starlark.Value, error) {
	switch name {
	case "sent":
		return starlark.MakeInt(r.sent), nil
	case "received":
		return starlark.MakeInt(r.received), nil
	case "pairs":
		return starlark.MakeInt(r.pairs), nil
	case "failed":
		out := make([]starlark.Value, len(r.failed))
		for i, f := range r.failed {
			out[i] = starlark.Tuple{starlark.String(f[0]), starlark.String(f[1])}
		}
		return starlark.NewList(out), nil
	}
	return nil, nil
}

// AttrNames lists the attributes of a Reachability.
func (r *Reachability) AttrNames() []string { return []string{"failed", "pairs", "received", "sent"} }
