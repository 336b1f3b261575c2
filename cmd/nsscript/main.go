// Command nsscript builds Linux network labs from Starlark scripts.
//
//	nsscript run lab.star            build the lab against the kernel
//	nsscript run lab.star --dry-run  print the equivalent shell script
//	nsscript ls                      list the labs that are up
//	nsscript down lab                remove everything the lab created
//	nsscript test lab_test.star      build it in a throw-away sandbox, run its checks
//	nsscript repl                    build a lab statement by statement
//
// Run `nsscript help` for the whole reference.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"nsscript/sandbox"
)

// errReported is returned by a command that has already told the user what
// went wrong; main only sets the exit code.
var errReported = errors.New("reported")

func main() {
	stop := startProfile()
	code := Main()
	stop()
	os.Exit(code)
}

// Main runs the command line in os.Args and returns the exit code.
func Main() int {
	// The first process of a sandbox (nsscript test, --sandbox) prepares
	// it before anything else.
	if err := sandbox.Init(); err != nil {
		fmt.Fprintf(os.Stderr, "nsscript: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	root.SetArgs(os.Args[1:])
	if err := root.ExecuteContext(ctx); err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintf(os.Stderr, "nsscript: %v\n", err)
		}
		return 1
	}
	return 0
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "nsscript",
		Short: "Build Linux network labs from Starlark scripts",
		Long: `nsscript turns a Starlark script into a network lab on the real kernel:
namespaces, veth pairs, bridges, addresses, routes, NAT and sysctls.
Everything a lab creates is recorded, so "nsscript down" removes exactly
that and nothing else, even after a crash.`,
		Example: `  nsscript run scripts/bridge.star      # build the lab (as root)
  nsscript run scripts/mesh.star --var n=8
  nsscript run scripts/bridge.star --dry-run > lab.sh
  nsscript ls
  nsscript down bridge`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(withSandbox(newRunCmd()), newDownCmd(), newLsCmd(), withSandbox(newReplCmd()), newTestCmd())
	return root
}
