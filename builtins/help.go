package builtins

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"go.starlark.net/starlark"
)

// Doc is the reference of one predeclared name, as help() prints it.
type Doc struct {
	// Name is the predeclared name.
	Name string
	// Params are the parameter names of a builtin, in order; nil for a
	// value such as host. The REPL completes them as keyword arguments.
	Params []string
	// Signature is how the call is written, in Python-like notation.
	Signature string
	// Summary is one line saying what it does.
	Summary string
	// Text says the rest: arguments, defaults, what it returns.
	Text string
	// Example is a few lines of script that use it.
	Example string
}

// docs is the reference of every name nsscript predeclares, in the order
// help() lists them. Its text agrees with the package documentation.
var docs = []Doc{
	{
		Name:      "host",
		Signature: "host",
		Summary:   "the root network namespace (never created or deleted)",
		Text:      "A netns value for the namespace nsscript runs in. Pass it wherever a\nnamespace is wanted: veth(host, red), route(host, ...).",
		Example:   `veth(host, netns("red"), addr="10.0.0.1/24", peer_addr="10.0.0.2/24")`,
	},
	{
		Name:      "netns",
		Params:    []string{"name"},
		Signature: "netns(name) -> netns",
		Summary:   "a named network namespace, loopback up",
		Text:      "Visible to `ip netns`. name is 1 to 64 bytes of letters, digits, '-', '_'\nand '.'. The value has .name.",
		Example:   "red = netns(\"red\")\nhosts = [netns(\"h%d\" % i) for i in range(1, 4)]",
	},
	{
		Name:      "bridge",
		Params:    []string{"name", "addr", "ns", "mtu", "mac"},
		Signature: "bridge(name, addr=None, ns=host, mtu=None, mac=None) -> bridge",
		Summary:   "a Linux bridge in ns, up once its ports exist",
		Text:      "addr is a CIDR string such as \"192.168.15.5/24\", or a list of them, for\nthe bridge's own addresses. mtu is 68 to 65535. mac is its Ethernet\naddress; by default one derived from the lab's, namespace's and bridge's\nnames. The value has .name, .ns, .addrs and .mac; pass it to veth() to\nadd a port.",
		Example:   "br = bridge(\"br0\", addr=\"192.168.15.5/24\")\nveth(netns(\"red\"), br, addr=\"192.168.15.1/24\")",
	},
	{
		Name:      "veth",
		Params:    []string{"a", "b", "name", "peer", "addr", "peer_addr", "mtu", "mac", "peer_mac"},
		Signature: "veth(a, b, name=None, peer=None, addr=None, peer_addr=None, mtu=None, mac=None, peer_mac=None) -> veth",
		Summary:   "a veth pair, one end in a and the other in b, both up",
		Text:      "a and b are each a netns (host included) or a bridge, whose end becomes a\nport of the bridge. name and peer name the ends; by default they are\n\"<local>-<remote>\", such as \"red-blue\" in red and \"blue-red\" in blue.\naddr and peer_addr are a CIDR string or a list of them for each end; mac\nand peer_mac their Ethernet addresses (by default derived from the lab's,\nnamespace's and interface's names, the same on every run). The value has\n.a and .b, the ends, each with .name, .ns, .peer, .addrs, .bridge and\n.mac.",
		Example:   "v = veth(red, blue, addr=\"10.0.0.1/24\", peer_addr=\"10.0.0.2/24\")\nv.a.name    # \"red-blue\"",
	},
	{
		Name:      "addr",
		Params:    []string{"iface", "cidr"},
		Signature: "addr(iface, cidr)",
		Summary:   "add an address (or a list of them) to a bridge or a veth end",
		Text:      "iface is a bridge or a veth end such as v.a; cidr a string such as\n\"10.0.0.1/24\" or \"fd00::1/64\", or a list of them.",
		Example:   `addr(v.a, ["10.0.0.1/24", "fd00::1/64"])`,
	},
	{
		Name:      "route",
		Params:    []string{"ns", "dst", "via", "dev", "metric"},
		Signature: "route(ns, dst, via=None, dev=None, metric=None)",
		Summary:   "a route in ns, IPv4 or IPv6",
		Text:      "dst is \"default\", \"default6\", a CIDR network such as \"10.0.2.0/24\" or one\naddress. via is the gateway, in a subnet of an address of ns; dev an\ninterface name, a bridge or a veth end in ns. Give via, dev or both.",
		Example:   `route(red, "default", via="192.168.15.5")`,
	},
	{
		Name:      "masquerade",
		Params:    []string{"src", "ns", "out"},
		Signature: "masquerade(src, ns=host, out=None)",
		Summary:   "source NAT for src leaving ns (iptables MASQUERADE), forwarding on",
		Text:      "Adds `iptables -t nat -A POSTROUTING -s src [-o out] -j MASQUERADE` in\nns and turns IPv4 forwarding on there; both are undone by nsscript down.\nsrc is an IPv4 CIDR network; out an interface name, a bridge or a veth end.",
		Example:   `masquerade("192.168.15.0/24", out=uplink.a)`,
	},
	{
		Name:      "sysctl",
		Params:    []string{"ns", "key", "value"},
		Signature: "sysctl(ns, key, value)",
		Summary:   "set a network sysctl in ns (restored by nsscript down)",
		Text:      "key as sysctl(8) writes it; value a string, int or bool (True is \"1\").",
		Example:   `sysctl(host, "net.ipv4.ip_forward", 1)`,
	},
	{
		Name:      "exec",
		Params:    []string{"ns", "cmd", "check"},
		Signature: "exec(ns, cmd, check=True) -> exec_result",
		Summary:   "apply the lab so far, then run a command in ns",
		Text:      "cmd is a string, run with /bin/sh -c, or a list of strings. The result\nhas .stdout, .stderr and .code, and is true when .code is 0. With\ncheck=True a non-zero exit code is an error.",
		Example:   "r = exec(red, \"ping -c 1 10.0.0.2\", check=False)\nprint(r.code, r.stdout)",
	},
	{
		Name:      "static_neighbors",
		Params:    []string{},
		Signature: "static_neighbors()",
		Summary:   "permanent ARP/NDP entries between all stations of each segment",
		Text:      "Gives every interface that carries addresses (a bridge, or a veth end that\nis no bridge port) a permanent neighbour entry for each address of every\nother such interface on its segment (the same veth pair, or the same\nbridge), of the families it has addresses of, like Mininet's staticArp().\nCovers what is declared so far; call it again after adding more. The\nkernel's neighbour tables are shared by all namespaces and hold 1024\nlearnt entries by default (gc_thresh3), so a full mesh of more than about\n32 namespaces on one segment needs it: permanent entries do not count.",
		Example:   "hosts = [netns(\"h%d\" % i) for i in range(1, 101)]\n...\nstatic_neighbors()\nprint(pingall())",
	},
	{
		Name:      "ping",
		Params:    []string{"src", "dst", "count", "timeout"},
		Signature: "ping(src, dst, count=1, timeout=\"1s\") -> bool",
		Summary:   "apply the lab so far, then: does dst answer ICMP echo from src?",
		Text:      "src is a netns (host included). dst is an address string, or a netns,\nbridge or veth end, meaning its first address. Sends count echo requests,\none after the other, each waiting up to timeout (\"1s\", \"250ms\" or a\nnumber of seconds) for its reply; true when at least one is answered.\nNo ping binary is used: nsscript sends the requests itself.",
		Example:   "if not ping(red, blue):\n    print(exec(red, \"ip route\").stdout)",
	},
	{
		Name:      "pingall",
		Params:    []string{"nodes", "count", "timeout"},
		Signature: "pingall(nodes=None, count=1, timeout=\"1s\") -> reachability",
		Summary:   "ping every ordered pair of namespaces at once; prints as a matrix",
		Text:      "nodes is a list of netns; by default every namespace of the lab that has\nan address. Each one pings the first address of every other, all pairs\nconcurrently. The result is true when every pair answered, has .sent,\n.received, .pairs and .failed (a list of (src, dst) names), and prints\nlike Mininet's pingall: a line \"h1 -> h2 X h4\" per node, X where no\nanswer came, then \"*** Results: 0% dropped (12/12 received)\".",
		Example:   "r = pingall()\nprint(r)\nif not r:\n    fail(\"unreachable: %s\" % r.failed)",
	},
	{
		Name:      "expect_reach",
		Params:    []string{"src", "dst", "count", "timeout"},
		Signature: "expect_reach(src, dst, count=1, timeout=\"1s\")",
		Summary:   "fail the script unless dst answers ICMP echo from src",
		Text:      "src is a netns or a list of them; dst an address string, a netns, bridge\nor veth end (its first address), or a list of these. Every pair must\nanswer at least one of count echo requests; pairs of a namespace with\nitself are skipped. A failure names each pair, what it saw and the line:\n  lab.star:9:1: expect_reach: red → 10.0.0.9: 0 of 1 echo requests answered within 1s",
		Example:   "expect_reach(red, blue)\nexpect_reach([red, blue], \"203.0.113.2\")",
	},
	{
		Name:      "expect_no_reach",
		Params:    []string{"src", "dst", "count", "timeout"},
		Signature: "expect_no_reach(src, dst, count=1, timeout=\"1s\")",
		Summary:   "fail the script if dst answers ICMP echo from src (isolation)",
		Text:      "Arguments as for expect_reach. Passes when no echo request of any pair is\nanswered: a firewall dropped it, or there is no route. Each pair costs\nthe whole timeout, so a short one (\"200ms\") keeps tests fast.",
		Example:   "exec(guest, \"iptables -A INPUT -p icmp -j DROP\")\nexpect_no_reach([red, blue], guest)",
	},
	{
		Name:      "show",
		Params:    []string{},
		Signature: "show()",
		Summary:   "print the lab as tables: namespaces, interfaces, addresses, routes, NAT",
		Text:      "Prints what the lab declares so far (in the REPL, what is up). net() is\nthe same function.",
		Example:   "show()",
	},
	{
		Name:      "net",
		Params:    []string{},
		Signature: "net()",
		Summary:   "the same as show()",
		Example:   "net()",
	},
	{
		Name:      "help",
		Params:    []string{"x"},
		Signature: "help(x=None)",
		Summary:   "list the builtins, or describe one (help(veth), help(\"veth\"))",
		Text:      "x is a builtin, its name, a lab value (its attributes) or a function\nof the script (its parameters and docstring).",
		Example:   "help(veth)",
	},
	{
		Name:      "save",
		Params:    []string{"path"},
		Signature: "save(path=\"<lab>.star\")  (nsscript repl only)",
		Summary:   "write the statements that built the lab so far as a script",
		Text:      "Writes every statement that changed the lab or defined a name, in order,\nskipping the ones that failed and pure queries (show(), a bare name).\n`nsscript run path` builds the same lab again.",
		Example:   `save("lab.star")`,
	},
	{
		Name:      "vars",
		Signature: "vars",
		Summary:   "a dict of the --var KEY=VALUE strings",
		Example:   `n = int(vars.get("n", "4"))`,
	},
	{
		Name:      "struct",
		Signature: "struct(**kwargs)",
		Summary:   "a record with the given fields, as in Bazel",
		Example:   `cfg = struct(subnet="10.0.0.0/24", n=4)`,
	},
}

// DocOf returns the reference of the predeclared name, if it has one.
func DocOf(name string) (Doc, bool) {
	for _, d := range docs {
		if d.Name == name {
			return d, true
		}
	}
	return Doc{}, false
}

// Docs returns the reference of every predeclared name, in help() order.
func Docs() []Doc { return append([]Doc(nil), docs...) }

// typeDocs describes the attributes of the lab's values, for help(value).
var typeDocs = map[string]string{
	"netns":        ".name   the namespace's name, \"host\" for host",
	"bridge":       ".name   the bridge's name\n.ns     the netns it is in\n.addrs  its addresses, a list of CIDR strings\n.mac    its Ethernet address",
	"veth":         ".a  the end in the first namespace (an iface)\n.b  the end in the second",
	"iface":        ".name    the interface's name\n.ns      the netns it is in\n.peer    the other end of the pair\n.addrs   its addresses, a list of CIDR strings\n.bridge  the bridge it is a port of, or None\n.mac     its Ethernet address",
	"reachability": ".sent      echo requests sent\n.received  echo requests answered\n.pairs     (src, dst) pairs probed\n.failed    the pairs that got no answer, a list of (src, dst) names\ntrue when every pair answered; print() shows the matrix",
	"exec_result":  ".stdout  what the command wrote to stdout\n.stderr  what it wrote to stderr\n.code    its exit code (true when 0)",
}

// help(x=None) prints the list of builtins, or the reference of one.
func help(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x starlark.Value = starlark.None
	if err := unpackArgs(fn.Name(), args, kwargs, "x?", &x); err != nil {
		return nil, err
	}
	w := stdoutOf(thread)
	if x == starlark.None {
		return starlark.None, writeHelpIndex(w)
	}
	switch x := x.(type) {
	case starlark.String:
		if d, ok := DocOf(string(x)); ok {
			return starlark.None, writeDoc(w, d)
		}
		return nil, fmt.Errorf("%s: no builtin is named %s; help() lists them", fn.Name(), x)
	case *starlark.Builtin:
		if d, ok := DocOf(x.Name()); ok {
			return starlark.None, writeDoc(w, d)
		}
		_, err := fmt.Fprintf(w, "%s is Starlark's own builtin; see https://github.com/bazelbuild/starlark/blob/master/spec.md#built-in-functions\n", x.Name())
		return starlark.None, err
	case *starlark.Function:
		_, err := io.WriteString(w, functionDoc(x))
		return starlark.None, err
	case Netns:
		if x.name == "" {
			if d, ok := DocOf("host"); ok {
				return starlark.None, writeDoc(w, d)
			}
		}
	}
	if r, ok := x.(*Reachability); ok {
		// Its String is the whole matrix: name it by its summary.
		_, err := fmt.Fprintf(w, "pingall's result (%s) is a reachability; its attributes:\n%s\n", r.Summary(), indent(typeDocs[r.Type()]))
		return starlark.None, err
	}
	if t, ok := typeDocs[x.Type()]; ok {
		article := "a"
		if strings.ContainsRune("aeiou", rune(x.Type()[0])) {
			article = "an"
		}
		_, err := fmt.Fprintf(w, "%s is %s %s; its attributes:\n%s\n", x, article, x.Type(), indent(t))
		return starlark.None, err
	}
	if d, ok := DocOf(x.Type()); ok {
		return starlark.None, writeDoc(w, d)
	}
	return nil, fmt.Errorf("%s: no help for %s %s; help() lists the builtins", fn.Name(), x.Type(), x)
}

func writeHelpIndex(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "nsscript builtins (help(name) says more):")
	for _, d := range docs {
		fmt.Fprintf(tw, "  %s\t%s\n", d.Name, d.Summary)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "Starlark's own builtins (len, range, print, sorted, ...) work as usual.\n")
	return err
}

func writeDoc(w io.Writer, d Doc) error {
	var b strings.Builder
	b.WriteString(d.Signature + "\n\n" + capitalize(d.Summary) + ".\n")
	if d.Text != "" {
		b.WriteString("\n" + d.Text + "\n")
	}
	if d.Example != "" {
		b.WriteString("\nExample:\n" + indent(d.Example) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// functionDoc describes a function the script defined: its signature and
// docstring.
func functionDoc(fn *starlark.Function) string {
	params := make([]string, fn.NumParams())
	for i := range params {
		name, _ := fn.Param(i)
		switch {
		case fn.HasKwargs() && i == fn.NumParams()-1:
			name = "**" + name
		case fn.HasVarargs() && i == fn.NumParams()-1-b2i(fn.HasKwargs()):
			name = "*" + name
		default:
			if d := fn.ParamDefault(i); d != nil {
				name += "=" + d.String()
			}
		}
		params[i] = name
	}
	s := fmt.Sprintf("%s(%s), defined at %s\n", fn.Name(), strings.Join(params, ", "), fn.Position())
	if doc := strings.TrimSpace(fn.Doc()); doc != "" {
		s += "\n" + indent(doc) + "\n"
	}
	return s
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
