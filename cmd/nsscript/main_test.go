package main

import (
	"os"
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
		// testscript.Main exits with the tests' or the command's code.
		testscript.Main(m, map[string]func(){"nsscript": func() { os.Exit(Main()) }})
		return 0
	}))
}

// TestScripts runs the end-to-end stories in testdata/script. Stories that
// build labs need root ([sandbox]) and then run inside this test's sandbox, one
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
			"snapshot": stateCmd("snapshot", networkState),
			"labstate": stateCmd("labstate", labState),
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
