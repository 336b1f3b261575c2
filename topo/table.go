package topo

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// This file renders a lab as tables for people: what show() prints, and
// what the REPL prints for a namespace, bridge or veth value. One table
// lists the interfaces of each namespace with their addresses; the others
// list routes, NAT rules and sysctls. Rows come in declaration order, the
// host first, so a table reads like the script that made it.

// Selection picks the part of a lab a table shows. A nil field selects
// everything.
type Selection struct {
	// Iface selects the interfaces (bridges and veth ends) to list.
	Iface func(ns, name string) bool
	// NS selects the namespaces whose routes, NAT rules and sysctls are
	// listed.
	NS func(ns string) bool
	// HideEmpty leaves out the row "-" that stands for a selected
	// namespace without interfaces.
	HideEmpty bool
}

// OnlyNS selects namespace ns: its interfaces, routes, rules and sysctls.
func OnlyNS(ns string) Selection {
	return Selection{
		Iface:     func(n, _ string) bool { return n == ns },
		NS:        func(n string) bool { return n == ns },
		HideEmpty: true,
	}
}

// OnlyIfaces selects the given interfaces, each as {namespace, name}, and
// no namespace-wide rows.
func OnlyIfaces(ifaces ...[2]string) Selection {
	return Selection{
		Iface: func(ns, name string) bool {
			for _, i := range ifaces {
				if i[0] == ns && i[1] == name {
					return true
				}
			}
			return false
		},
		NS: func(string) bool { return false },
	}
}

// WriteTable writes the part of l that sel selects as aligned tables:
// interfaces (with their kind, veth peer, bridge and addresses), routes,
// NAT rules and sysctls, each table only when it has rows. A lab with
// nothing selected writes nothing.
func (l *Lab) WriteTable(w io.Writer, sel Selection) error {
	if sel.Iface == nil {
		sel.Iface = func(string, string) bool { return true }
	}
	if sel.NS == nil {
		sel.NS = func(string) bool { return true }
	}
	var t tables

	t.start("NAMESPACE", "INTERFACE", "KIND", "PEER", "BRIDGE", "ADDRESSES")
	for _, ns := range l.namespaces() {
		n := 0
		for _, b := range l.Bridges {
			if b.NS == ns && sel.Iface(ns, b.Name) {
				t.row(NSName(ns), b.Name, "bridge", "", "", l.addrsOf(ns, b.Name))
				n++
			}
		}
		for _, v := range l.Veths {
			for _, pair := range [][2]End{{v.A, v.B}, {v.B, v.A}} {
				e, peer := pair[0], pair[1]
				if e.NS == ns && sel.Iface(ns, e.Name) {
					t.row(NSName(ns), e.Name, "veth", peer.Name+"@"+NSName(peer.NS), e.Master, l.addrsOf(ns, e.Name))
					n++
				}
			}
		}
		if n == 0 && ns != Host && sel.NS(ns) && !sel.HideEmpty {
			t.row(NSName(ns), "-", "", "", "", "")
		}
	}

	t.start("NAMESPACE", "ROUTE")
	for _, r := range l.Routes {
		if sel.NS(r.NS) {
			t.row(NSName(r.NS), r.describe())
		}
	}

	t.start("NAMESPACE", "NAT")
	for _, m := range l.Masquerades {
		if sel.NS(m.NS) {
			rule := "masquerade -s " + m.Src.String()
			if m.Out != "" {
				rule += " -o " + m.Out
			}
			t.row(NSName(m.NS), rule)
		}
	}

	t.start("NAMESPACE", "SYSCTL")
	for _, c := range l.Sysctls {
		if sel.NS(c.NS) {
			t.row(NSName(c.NS), c.Key+" = "+c.Value)
		}
	}
	return t.flush(w)
}

// namespaces lists the host (when the lab puts anything there) and then
// the lab's namespaces, in declaration order.
func (l *Lab) namespaces() []string {
	host := false
	for _, b := range l.Bridges {
		host = host || b.NS == Host
	}
	for _, v := range l.Veths {
		host = host || v.A.NS == Host || v.B.NS == Host
	}
	for _, r := range l.Routes {
		host = host || r.NS == Host
	}
	for _, m := range l.Masquerades {
		host = host || m.NS == Host
	}
	for _, c := range l.Sysctls {
		host = host || c.NS == Host
	}
	var out []string
	if host {
		out = append(out, Host)
	}
	for _, n := range l.Netns {
		out = append(out, n.Name)
	}
	return out
}

// addrsOf lists the addresses declared on interface dev of ns.
func (l *Lab) addrsOf(ns, dev string) string {
	var out []string
	for _, a := range l.Addrs {
		if a.NS == ns && a.Dev == dev {
			out = append(out, a.Prefix.String())
		}
	}
	return strings.Join(out, ", ")
}

// describe returns the route as `ip route` would list it.
func (r *Route) describe() string {
	dst := r.Dst.String()
	if r.Dst.Bits() == 0 && r.Dst.Addr().Is4() {
		dst = "default"
	}
	parts := []string{dst}
	if r.Via.IsValid() {
		parts = append(parts, "via", r.Via.String())
	}
	if r.Dev != "" {
		parts = append(parts, "dev", r.Dev)
	}
	if r.Metric != 0 {
		parts = append(parts, "metric", strconv.Itoa(r.Metric))
	}
	return strings.Join(parts, " ")
}

// tables collects tables of rows, and writes those that have rows with
// their columns aligned, a blank line between tables.
type tables struct {
	all []*table
}

type table struct {
	head []string
	rows [][]string
}

func (t *tables) start(head ...string) { t.all = append(t.all, &table{head: head}) }

func (t *tables) row(cells ...string) {
	cur := t.all[len(t.all)-1]
	cur.rows = append(cur.rows, cells)
}

func (t *tables) flush(w io.Writer) error {
	var buf bytes.Buffer
	first := true
	for _, tb := range t.all {
		if len(tb.rows) == 0 {
			continue
		}
		if !first {
			buf.WriteByte('\n')
		}
		first = false
		tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
		for _, cells := range append([][]string{tb.head}, tb.rows...) {
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	// Empty last cells leave padding behind; nobody wants trailing blanks.
	lines := strings.SplitAfter(buf.String(), "\n")
	for i, line := range lines {
		lines[i] = strings.TrimRight(line, " \n")
		if strings.HasSuffix(line, "\n") {
			lines[i] += "\n"
		}
	}
	_, err := io.WriteString(w, strings.Join(lines, ""))
	return err
}
