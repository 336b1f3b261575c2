package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"nsscript/sandbox"
)

// withSandbox gives cmd a --sandbox flag: with it, the command runs again
// in a sandbox of its own (package sandbox) that lives as long as it does,
// so whatever lab it builds is private to it and vanishes when it exits,
// with no `nsscript down` to run. Not root, the sandbox is a user
// namespace too, so the command needs no privileges at all.
func withSandbox(cmd *cobra.Command) *cobra.Command {
	var on bool
	cmd.Flags().BoolVar(&on, "sandbox", false, "run in a throw-away sandbox (private network, /run and state; rootless when not root); the lab goes when the command ends")
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if !on || sandbox.Fresh() {
			return run(c, args)
		}
		code, err := sandbox.Exec(os.Args[1:]...)
		if err != nil {
			return err
		}
		if code != 0 {
			return errReported
		}
		return nil
	}
	return cmd
}

// inThrowAwaySandbox reports whether this process is the first of a
// sandbox made for it: whatever it builds goes when it exits.
func inThrowAwaySandbox() bool { return sandbox.Fresh() }

// sandboxNote is what a command run with --sandbox says about its lab
// instead of how to remove it.
func sandboxNote(name string) string {
	return fmt.Sprintf("lab %s was built in a throw-away sandbox and goes with it", name)
}
