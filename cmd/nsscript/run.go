package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"nsscript/builtins"
	"nsscript/interp"
	"nsscript/kernel"
	"nsscript/topo"
)

type runFlags struct {
	dryRun bool
	name   string
	vars   []string
	quiet  bool
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Build the lab a script describes",
		Long: `Run evaluates FILE and builds the lab it declares against the kernel,
in-process through netlink. On any error (in the script, in validation or
from the kernel) everything this run created is removed again and the
error names the script's file:line.

The lab is named after the script (lab.star → lab) unless --name is given.
--var KEY=VALUE values reach the script as the dict vars.
With --dry-run nothing is touched and no root is needed: the ip, iptables
and sysctl commands that build the same lab are printed as a shell script.
With --sandbox the lab is built in a throw-away sandbox (its own network,
/run and state directory; a user namespace when not root, so no root is
needed) and is gone when the run ends: a way to check that a script
builds and that its expect_reach/expect_no_reach checks pass. "nsscript
test" does that for many files.`,
		Example: `  sudo nsscript run scripts/pair.star
  sudo nsscript run scripts/mesh.star --var n=16 --name mesh16
  nsscript run scripts/bridge.star --dry-run > bridge.sh
  nsscript run scripts/bridge_test.star --sandbox`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScript(cmd, args[0], f)
		},
	}
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the shell script that builds the lab; touch nothing")
	cmd.Flags().StringVar(&f.name, "name", "", "name of the lab (default: the script's base name)")
	cmd.Flags().StringArrayVar(&f.vars, "var", nil, "KEY=VALUE passed to the script in vars (repeatable)")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "show no progress bar")
	return cmd
}

func runScript(cmd *cobra.Command, file string, f runFlags) error {
	ctx := cmd.Context()
	name, err := labName(file, f.name)
	if err != nil {
		return err
	}
	vars, err := parseVars(f.vars)
	if err != nil {
		return err
	}
	if f.dryRun {
		sess := interp.NewSession(interp.Options{
			Name:    name,
			Vars:    vars,
			Backend: &builtins.DryRun{W: cmd.OutOrStdout()},
			// stdout carries the shell script; print() must not break it.
			Stdout: cmd.ErrOrStderr(),
		})
		if err := sess.ExecFile(ctx, file, nil); err != nil {
			fmt.Fprintln(cmd.ErrOrStderr(), interp.FormatError(err))
			return errReported
		}
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("building a lab needs root (CAP_NET_ADMIN); run it with sudo, try it in a throw-away sandbox with --sandbox (no root needed), or print the commands with --dry-run")
	}
	abs, _ := filepath.Abs(file)
	applier, err := kernel.Open(kernel.StateDir(), name, kernel.Meta{Script: abs, Vars: vars})
	if err != nil {
		return err
	}
	var endBar func()
	applier.Progress, endBar = newProgress(cmd.ErrOrStderr(), f.quiet, "building")
	sess := interp.NewSession(interp.Options{
		Name:    name,
		Vars:    vars,
		Backend: applier,
		Stdout:  cmd.OutOrStdout(),
	})
	err = sess.ExecFile(ctx, file, nil)
	endBar()
	if err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), interp.FormatError(err))
		if inThrowAwaySandbox() {
			// Everything goes with the sandbox; a rollback would only
			// take time.
			return errReported
		}
		// The context may be cancelled already (Ctrl-C): rolling back must
		// still finish.
		if aerr := applier.Abort(context.WithoutCancel(ctx)); aerr != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "nsscript: rolling back lab %s failed: %v\nRun `nsscript down %s` to retry the clean-up.\n", name, aerr, name)
		} else {
			fmt.Fprintf(cmd.ErrOrStderr(), "nsscript: nothing of lab %s was left behind\n", name)
		}
		return errReported
	}
	if err := applier.Close(); err != nil {
		return err
	}
	if inThrowAwaySandbox() {
		fmt.Fprintf(cmd.ErrOrStderr(), "lab %s is up: %s\n%s\n", name, summary(sess.Lab.Counts()), sandboxNote(name))
		return nil
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "lab %s is up: %s\nremove it with: nsscript down %s\n", name, summary(sess.Lab.Counts()), name)
	return nil
}

// labName is --name, or the script's base name without .star.
func labName(file, flag string) (string, error) {
	name := flag
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(file), ".star")
	}
	if err := checkLabName(name); err != nil {
		return "", err
	}
	return name, nil
}

func checkLabName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") || len(name) > 64 {
		return fmt.Errorf("lab name %q is not usable; give --name a short name without '/'", name)
	}
	return nil
}

func parseVars(kvs []string) (map[string]string, error) {
	vars := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--var %q: want KEY=VALUE, e.g. --var n=8", kv)
		}
		vars[k] = v
	}
	return vars, nil
}

// summary says how many resources of each kind a lab has, skipping zeros.
func summary(c topo.Counts) string {
	var parts []string
	add := func(n int, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+one)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %s", n, many))
		}
	}
	add(c.Netns, "netns", "netns")
	add(c.Bridges, "bridge", "bridges")
	add(c.Veths, "veth pair", "veth pairs")
	add(c.Addrs, "address", "addresses")
	add(c.Routes, "route", "routes")
	add(c.Masquerades, "masquerade rule", "masquerade rules")
	add(c.Sysctls, "sysctl", "sysctls")
	add(c.Neighbors, "neighbour entry", "neighbour entries")
	if len(parts) == 0 {
		return "empty"
	}
	return strings.Join(parts, ", ")
}
