package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"nsscript/kernel"
)

func newLsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the labs that are up",
		Long: `Ls lists the labs that are up (or were left half-built by a killed run),
with how many namespaces, links, addresses, routes, iptables rules,
sysctls and permanent neighbour entries each one owns.`,
		Example: `  nsscript ls
  nsscript ls --json | jq '.[].name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			labs, err := kernel.List(kernel.StateDir())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if labs == nil {
					labs = []kernel.LabInfo{}
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(labs)
			}
			if len(labs) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "no labs are up")
				return nil
			}
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "LAB\tSTATE\tNETNS\tLINKS\tADDRS\tROUTES\tRULES\tSYSCTLS\tNEIGH\tSINCE\tSCRIPT")
			for _, l := range labs {
				c := l.Counts
				fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n",
					l.Name, l.State, c.Netns, c.Links, c.Addrs, c.Routes, c.Rules, c.Sysctls, c.Neighbors,
					l.Started.Local().Format(time.DateTime), l.Script)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the labs as a JSON array")
	return cmd
}
