package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"nsscript/sandbox"
)

type testFlags struct {
	verbose bool
	vars    []string
	timeout time.Duration
}

func newTestCmd() *cobra.Command {
	var f testFlags
	cmd := &cobra.Command{
		Use:   "test FILE|DIR...",
		Short: "Build each lab in a throw-away sandbox and run its checks",
		Long: `Test runs each FILE as "nsscript run" would, but in a sandbox of its own: a
new network namespace (its own "host"), mount namespace, /run, /run/netns
and state directory. The script builds its lab, runs its exec() commands
and its checks (expect_reach, expect_no_reach, or fail() on whatever it
measures with ping() or pingall()), and then the sandbox is thrown away
with everything in it. Nothing of the machine's own network is visible to
the lab, or changed by it. A DIR stands for the *_test.star files in it.

Files run one after the other. Each gets a line, "ok" or "FAIL" with the
time it took; a failing file's output and error follow, indented (with -v,
every file's). The last line counts them: "2 passed, 1 failed". The exit
status is 1 when any file failed.

As root, the sandboxes are plain network and mount namespaces. As any other
user, each is also a user namespace in which the user is root, so no
privileges are needed, on systems that allow unprivileged user namespaces.`,
		Example: `  nsscript test scripts/bridge_test.star
  nsscript test -v scripts/
  nsscript test --var n=100 scripts/lan_test.star`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTests(cmd, args, f)
		},
	}
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "show what every file prints, not only failing ones")
	cmd.Flags().StringArrayVar(&f.vars, "var", nil, "KEY=VALUE passed to every script in vars (repeatable)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 10*time.Minute, "stop a file that runs longer than this, and count it failed")
	return cmd
}

// testFiles expands the arguments of `nsscript test`: files as they are,
// directories to their *_test.star files.
func testFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, errors.Unwrap(err))
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		found, _ := filepath.Glob(filepath.Join(a, "*_test.star"))
		if len(found) == 0 {
			return nil, fmt.Errorf("%s holds no *_test.star files; name test labs so, or give the files", a)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

func runTests(cmd *cobra.Command, args []string, f testFlags) error {
	ctx := cmd.Context()
	if _, err := parseVars(f.vars); err != nil {
		return err
	}
	files, err := testFiles(args)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	width := 0
	for _, file := range files {
		width = max(width, len(file))
	}
	passed, failed := 0, 0
	for _, file := range files {
		if f.verbose {
			fmt.Fprintf(out, "=== %s\n", file)
		}
		start := time.Now()
		output, ok, err := testOne(ctx, file, f, out)
		took := time.Since(start)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			fmt.Fprintf(out, "%s\ninterrupted: %d passed, %d failed, %d not run\n", indent(output), passed, failed, len(files)-passed-failed)
			return errReported
		}
		status := "ok  "
		if ok {
			passed++
		} else {
			failed++
			status = "FAIL"
		}
		fmt.Fprintf(out, "%s  %-*s  %.2fs\n", status, width, file, took.Seconds())
		if !ok && !f.verbose {
			fmt.Fprint(out, indent(output))
		}
	}
	fmt.Fprintf(out, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return errReported
	}
	return nil
}

// testOne runs file in a sandbox of its own and reports what it printed
// and whether it passed. err is for failing to make the sandbox at all.
// With -v the output also goes to out as it comes, indented.
func testOne(ctx context.Context, file string, f testFlags, out io.Writer) (output string, ok bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	args := []string{"run", file}
	for _, kv := range f.vars {
		args = append(args, "--var", kv)
	}
	c, err := sandbox.CommandContext(ctx, args...)
	if err != nil {
		return "", false, err
	}
	var buf bytes.Buffer
	var w io.Writer = &buf
	if f.verbose {
		w = io.MultiWriter(&buf, &indenter{w: out, start: true})
	}
	c.Stdout, c.Stderr = w, w
	code, err := sandbox.ExitCode(c.Run())
	if err != nil {
		return "", false, err
	}
	if ctx.Err() == context.DeadlineExceeded {
		fmt.Fprintf(w, "nsscript test: %s still ran after --timeout %v; stopped\n", file, f.timeout)
		return buf.String(), false, nil
	}
	return buf.String(), code == 0, nil
}

// indent indents every line of s by four spaces.
func indent(s string) string {
	if s == "" {
		return ""
	}
	s = strings.TrimSuffix(s, "\n")
	return "    " + strings.ReplaceAll(s, "\n", "\n    ") + "\n"
}

// indenter writes what it is given to w, each line indented by four
// spaces.
type indenter struct {
	w     io.Writer
	start bool // at the start of a line
}

func (i *indenter) Write(p []byte) (int, error) {
	var b bytes.Buffer
	for _, c := range p {
		if i.start {
			b.WriteString("    ")
		}
		b.WriteByte(c)
		i.start = c == '\n'
	}
	_, err := i.w.Write(b.Bytes())
	return len(p), err
}
