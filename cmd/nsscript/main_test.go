package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"nsscript/sandbox"
)

// TestMain runs the tests inside a sandbox when root, and lets testscript
// run this binary as the nsscript command.
func TestMain(m *testing.M) {
	if os.Getenv("NSSCRIPT_TEST_MAIN") != "" {
		os.Exit(Main())
	}
	os.Exit(sandbox.Run(func() int {
		return testscript.RunMain(m, map[string]func() int{"nsscript": Main})
	}))
}

// TestScripts runs the end-to-end stories in testdata/script. Stories that
// build labs need root ([root]) and then run inside this test's sandbox, one
// after another, since they share its network.
func TestScripts(t *testing.T) {
	scripts, err := filepath.Abs("../../scripts")
	if err != nil {
		t.Fatal(err)
	}
	testscript.RunT(serial{t}, testscript.Params{
		Dir:                 "../../testdata/script",
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") != "",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("NSSCRIPT_STATE_DIR", env.WorkDir+"/state")
			env.Setenv("SCRIPTS", scripts)
			// The PATH testscript made (where nsscript is), without the
			// system's directories, for stories that choose their tools.
			env.Setenv("PATH_NSSCRIPT", strings.SplitN(env.Getenv("PATH"), ":", 2)[0])
			// nsscript runs in this test's sandbox, not in one of its own.
			env.Setenv(sandbox.EnvInside, os.Getenv(sandbox.EnvInside))
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "sandbox":
				return sandbox.Inside(), nil
			}
			return false, nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"snapshot": cmdSnapshot,
			"labstate": cmdLabState,
		},
	})
}

// serial runs the stories one at a time: those that build labs share the
// sandbox's network.
type serial struct{ *testing.T }

func (serial) Parallel() {}

func (s serial) Run(name string, f func(testscript.T)) {
	s.T.Run(name, func(t *testing.T) { f(serial{t}) })
}

func (s serial) Verbose() bool { return testing.Verbose() }

// cmdSnapshot saves or compares what the sandbox's network looks like:
//
//	snapshot save NAME   write the state to the file NAME
//	snapshot cmp NAME    fail unless the state equals the one saved in NAME
//
// The state is every named namespace, and in the root namespace and each
// named one: links, addresses, routes, the nat table and forwarding.
func cmdSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || (args[0] != "save" && args[0] != "cmp") {
		ts.Fatalf("usage: snapshot save|cmp NAME")
	}
	state, err := networkState()
	ts.Check(err)
	file := ts.MkAbs(args[1])
	if args[0] == "save" {
		ts.Check(os.WriteFile(file, []byte(state), 0o644))
		return
	}
	saved, err := os.ReadFile(file)
	ts.Check(err)
	same := string(saved) == state
	if same == neg {
		ts.Logf("saved:\n%s\nnow:\n%s", saved, state)
		if neg {
			ts.Fatalf("network state unchanged")
		}
		ts.Fatalf("network state differs from %s", args[1])
	}
}

// networkState describes the sandbox's network as text, to compare before
// and after a lab.
func networkState() (string, error) {
	var b strings.Builder
	var failed error
	sh := func(cmd string) {
		out, err := exec.Command("sh", "-c", cmd).CombinedOutput()
		if err != nil && failed == nil {
			failed = fmt.Errorf("%s: %v\n%s", cmd, err, out)
		}
		b.WriteString("$ " + cmd + "\n")
		b.Write(out)
	}
	sh("ls /run/netns")
	namespaces := []string{""}
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		namespaces = append(namespaces, e.Name())
	}
	for _, ns := range namespaces {
		in := ""
		if ns != "" {
			in = "ip netns exec " + ns + " "
		}
		sh(in + "ip -o link show | sed 's/link-netns [^ ]*//; s/link-netnsid [0-9]*//'")
		sh(in + "ip -o addr show")
		sh(in + "ip route show table all")
		sh(in + "ip -6 route show table all")
		sh(in + "sh -c 'iptables-save -t nat 2>/dev/null | grep -v \"^#\" || true'")
		sh(in + "cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding")
	}
	return b.String(), failed
}
