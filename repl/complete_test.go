package repl

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"nsscript/builtins"
	"nsscript/interp"
)

func TestComplete(t *testing.T) {
	sess := interp.NewSession(interp.Options{Name: "t", Backend: &builtins.DryRun{W: io.Discard}, Stdout: io.Discard})
	r := New(Options{Session: sess, In: strings.NewReader(`red = netns("red")
uplink = veth(host, red)
def lan_host(name, ip, *rest, gw=None, **kw):
    pass

vethers = 1
`), Out: io.Discard, Err: io.Discard})
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := &completer{globals: func() starlark.StringDict { return sess.Globals }}

	tests := []struct {
		text, word string
		want       []string // nil: exactly no candidates
		has        bool     // want lists some of the candidates, not all
	}{
		{"vet", "vet", []string{"veth(", "vethers"}, false},
		{"x = vet", "vet", []string{"veth(", "vethers"}, false},
		{"netn", "netn", []string{"netns("}, false},
		{"sa", "sa", []string{"save("}, false},
		{"ups", "ups", nil, false},
		{"upl", "upl", []string{"uplink"}, false},
		{"uplink.", "", []string{"a", "b"}, false},
		{"uplink.a.", "", []string{"addrs", "bridge", "mac", "name", "ns", "peer"}, false},
		{"print(uplink.a.na", "na", []string{"name"}, false},
		{"uplink.a.peer.n", "n", []string{"name", "ns"}, false},
		{"[1].app", "app", nil, false}, // not a chain of names
		{"red.name.up", "up", []string{"upper("}, false},
		{"veth(red, host, pe", "pe", []string{"peer=", "peer_addr=", "peer_mac="}, false},
		{"veth(red, host, ", "", []string{"name=", "peer=", "addr=", "peer_addr=", "mtu="}, true},
		{"veth(red, host, name=\"x\", ", "", []string{"a=", "addr=", "b=", "mac=", "mtu=", "peer=", "peer_addr=", "peer_mac="}, false},
		{"veth(red, host, addr=[\"10.0.0.1/24\"], n", "n", []string{"name=", "netns(", "net(", "not"}, true},
		{"lan_host(", "", []string{"gw=", "ip=", "name="}, false},
		{"route(red, \"default\", via=", "", nil, false},
		{"route(red, \"defa", "", nil, false}, // in a string
		{"netns(\"x\") # vet", "", nil, false},
		{"fo", "fo", []string{"for"}, false},
		{"le", "le", []string{"len("}, false},
		{"12", "", nil, false},
		{"    ", "", []string{"    "}, false},
	}
	for _, tt := range tests {
		word, got := c.complete(tt.text)
		if tt.has {
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("complete(%q) = %q, lacks %q", tt.text, got, w)
				}
			}
			continue
		}
		if word != tt.word || !slices.Equal(got, tt.want) {
			t.Errorf("complete(%q) = %q, %q; want %q, %q", tt.text, word, got, tt.word, tt.want)
		}
	}

	// What readline gets: suffixes after the word, and its length.
	got, n := c.Do([]rune("x = vet"), len("x = vet"))
	if n != 3 || len(got) != 2 || string(got[0]) != "h(" || string(got[1]) != "hers" {
		t.Errorf("Do(\"x = vet\") = %q, %d", got, n)
	}
}
