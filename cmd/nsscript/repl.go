package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/chzyer/readline"
	"github.com/spf13/cobra"

	"nsscript/builtins"
	"nsscript/interp"
	"nsscript/kernel"
	"nsscript/repl"
)

type replFlags struct {
	name       string
	vars       []string
	dryRun     bool
	downOnExit bool
}

func newReplCmd() *cobra.Command {
	var f replFlags
	cmd := &cobra.Command{
		Use:   "repl [FILE]",
		Short: "Build and poke a live lab one statement at a time",
		Long: `Repl reads Starlark statements at a ">>> " prompt and applies each one to
the kernel as soon as it is complete: a line, or a block (for, def, if)
ended by an empty line. The value of an expression is printed; a namespace,
bridge or veth shows its interfaces and addresses. A statement that fails
prints its error and leaves the lab as it was before it.

With FILE, the file runs first and its globals are in scope at the prompt.
The lab is named by --name, else after FILE, else "repl"; a lab of that name
must not be up already. On exit (Ctrl-D) the lab stays up and "nsscript
down LAB" removes it; --down-on-exit removes it at once.

At the prompt: help() lists the builtins, help(veth) shows one; show()
prints the lab as tables; save("lab.star") writes the statements that built
the lab as a script for "nsscript run". Tab completes names, keyword
arguments and attributes; Ctrl-R searches the history, kept in
$NSSCRIPT_HISTORY (default ~/.nsscript_history; empty: none). Ctrl-C
cancels the running statement or the line being typed.

Without a terminal, statements are read from standard input with no
prompts: values go to stdout, errors to stderr, and the exit status is 1
when any statement failed. With --dry-run nothing is touched and no root is
needed: each statement prints the shell commands it stands for.`,
		Example: `  sudo nsscript repl
  sudo nsscript repl scripts/bridge.star --name poke
  printf 'red = netns("red")\nred\n' | sudo nsscript repl
  nsscript repl --dry-run`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := ""
			if len(args) == 1 {
				file = args[0]
			}
			return runRepl(cmd, file, f)
		},
	}
	cmd.Flags().StringVar(&f.name, "name", "", `name of the lab (default: FILE's base name, or "repl")`)
	cmd.Flags().StringArrayVar(&f.vars, "var", nil, "KEY=VALUE passed to the statements in vars (repeatable)")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the shell commands each statement stands for; touch nothing")
	cmd.Flags().BoolVar(&f.downOnExit, "down-on-exit", false, "remove the lab when the prompt ends")
	return cmd
}

// historyFile is where a terminal session keeps its history:
// $NSSCRIPT_HISTORY when set (empty: no history file), otherwise
// ~/.nsscript_history. The state directory is no place for it: it lives on
// a tmpfs, and history should outlive a reboot.
func historyFile() string {
	if p, ok := os.LookupEnv("NSSCRIPT_HISTORY"); ok {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".nsscript_history")
}

func runRepl(cmd *cobra.Command, file string, f replFlags) error {
	name := f.name
	if name == "" && file == "" {
		name = "repl"
	}
	name, err := labName(file, name)
	if err != nil {
		return err
	}
	vars, err := parseVars(f.vars)
	if err != nil {
		return err
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	terminal := cmd.InOrStdin() == os.Stdin && readline.DefaultIsTerminal()

	var (
		backend   builtins.Backend
		applier   *kernel.Applier
		savepoint func() func(context.Context) error
	)
	if f.dryRun {
		backend = &builtins.DryRun{W: stdout}
	} else {
		if os.Geteuid() != 0 {
			return fmt.Errorf("building a lab needs root (CAP_NET_ADMIN); run it with sudo, or try it with --dry-run")
		}
		meta := kernel.Meta{Vars: vars}
		if file != "" {
			meta.Script, _ = filepath.Abs(file)
		}
		applier, err = kernel.Open(kernel.StateDir(), name, meta)
		switch {
		case errors.Is(err, kernel.ErrUp):
			return fmt.Errorf("%v\nTo keep it, give this session another name with --name; to replace it, run `nsscript down %s` first", err, name)
		case err != nil:
			return err
		}
		backend = applier
		savepoint = func() func(context.Context) error {
			sp := applier.Savepoint()
			return func(ctx context.Context) error { return applier.RollbackTo(ctx, sp) }
		}
	}

	sess := interp.NewSession(interp.Options{Name: name, Vars: vars, Backend: backend, Stdout: stdout})

	// main's context ends on the first Ctrl-C; at the prompt Ctrl-C only
	// cancels one statement, so the REPL listens for itself. SIGTERM and
	// SIGHUP (the terminal went away) end the session; so does Ctrl-C
	// when there is no terminal to go back to.
	ctx, cancel := context.WithCancel(context.WithoutCancel(cmd.Context()))
	defer cancel()
	ends := make(chan os.Signal, 1)
	stops := []os.Signal{syscall.SIGTERM, syscall.SIGHUP}
	var interrupt chan os.Signal
	if terminal {
		interrupt = make(chan os.Signal, 1)
		signal.Notify(interrupt, os.Interrupt)
		defer signal.Stop(interrupt)
	} else {
		stops = append(stops, os.Interrupt)
	}
	signal.Notify(ends, stops...)
	defer signal.Stop(ends)
	go func() {
		select {
		case <-ends:
			cancel()
		case <-ctx.Done():
		}
	}()

	r := repl.New(repl.Options{
		Session:     sess,
		Savepoint:   savepoint,
		File:        file,
		In:          cmd.InOrStdin(),
		Out:         stdout,
		Err:         stderr,
		Terminal:    terminal,
		HistoryFile: historyFile(),
		Interrupt:   interrupt,
	})
	if terminal {
		fmt.Fprintf(stderr, "nsscript repl: lab %s. help() lists the builtins, show() the lab; Ctrl-D leaves.\n", name)
	}
	runErr := r.Run(ctx)
	if applier != nil {
		if err := leave(stderr, applier, sess, f.downOnExit); err != nil {
			return err
		}
	}
	if runErr != nil {
		return runErr
	}
	if !terminal && r.Failed() > 0 {
		return errReported
	}
	return nil
}

// leave ends the kernel side of a session: the lab stays up, unless asked
// to go or empty (an empty lab is not worth a name in nsscript ls).
func leave(w io.Writer, applier *kernel.Applier, sess *interp.Session, down bool) error {
	name := sess.Lab.Name
	// The clean-up must finish even after a SIGTERM.
	ctx := context.Background()
	switch {
	case sess.Lab.Empty():
		if err := applier.Abort(ctx); err != nil {
			return fmt.Errorf("removing the state of empty lab %s: %w", name, err)
		}
		fmt.Fprintf(w, "lab %s is empty; nothing is left up\n", name)
	case down:
		if err := applier.Abort(ctx); err != nil {
			return fmt.Errorf("removing lab %s: %w; `nsscript down %s` retries", name, err, name)
		}
		fmt.Fprintf(w, "lab %s is down\n", name)
	case inThrowAwaySandbox():
		if err := applier.Close(); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\n", sandboxNote(name))
	default:
		if err := applier.Close(); err != nil {
			return err
		}
		fmt.Fprintf(w, "lab %s stays up: %s\nremove it with: nsscript down %s\n", name, summary(sess.Lab.Counts()), name)
	}
	return nil
}
