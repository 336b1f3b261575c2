package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"nsscript/kernel"
)

func newDownCmd() *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "down LAB|FILE",
		Short: "Remove everything a lab created",
		Long: `Down removes exactly what the lab created, from the journal its run
wrote before each change: namespaces, links, addresses, routes and
iptables rules. Sysctls are set back to the values they had. It returns
when all of it is gone. It works after a crashed or killed run, and a
second down of the same lab is harmless.

LAB is a lab name as "nsscript ls" shows it; FILE is a script, whose lab
name is its base name without .star.`,
		Example: `  sudo nsscript down bridge
  sudo nsscript down scripts/bridge.star`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if strings.HasSuffix(name, ".star") || strings.Contains(name, "/") {
				var err error
				if name, err = labName(name, ""); err != nil {
					return err
				}
			}
			if err := checkLabName(name); err != nil {
				return err
			}
			if os.Geteuid() != 0 {
				return fmt.Errorf("removing a lab needs root (CAP_NET_ADMIN); run it with sudo")
			}
			progress, endBar := newProgress(cmd.ErrOrStderr(), quiet, "removing")
			err := kernel.DownWith(context.WithoutCancel(cmd.Context()), kernel.StateDir(), name, kernel.DownOptions{Progress: progress})
			endBar()
			switch {
			case errors.Is(err, kernel.ErrNotUp):
				fmt.Fprintf(cmd.ErrOrStderr(), "lab %s is not up; nothing to remove\n", name)
				return nil
			case err != nil:
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "lab %s is down\n", name)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "show no progress bar")
	return cmd
}
