package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"nsscript/sandbox"
)

// These tests drive `nsscript repl` through a pseudo-terminal, as a person
// at a keyboard would: line editing, tab completion, history and Ctrl-C are
// readline's, which only works on a terminal.

// terminal is nsscript running on a pseudo-terminal: what the test types
// goes to its keyboard, and everything it writes is collected.
type terminal struct {
	t      *testing.T
	master *os.File
	cmd    *exec.Cmd

	mu   sync.Mutex
	out  []byte
	seen int // how much of out expect has consumed
	eof  chan struct{}
}

// openPTY returns a new pseudo-terminal pair, 40 rows of 120 columns
// (readline completes nothing on a terminal without a width).
func openPTY() (master, tty *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("unlocking the pty: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("naming the pty: %w", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120}); err != nil {
		m.Close()
		s.Close()
		return nil, nil, err
	}
	return m, s, nil
}

// startTerminal runs nsscript with args on a new pseudo-terminal, as the
// session leader with it as its controlling terminal, so that Ctrl-C
// typed there is a SIGINT. env is added to the environment.
func startTerminal(t *testing.T, env []string, args ...string) *terminal {
	t.Helper()
	master, tty, err := openPTY()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	cmd := nsscript(t, args...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	term := &terminal{t: t, master: master, cmd: cmd, eof: make(chan struct{})}
	go func() {
		defer close(term.eof)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			term.mu.Lock()
			term.out = append(term.out, buf[:n]...)
			term.mu.Unlock()
			if err != nil {
				return // EIO once the program and its children are gone
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		master.Close()
	})
	return term
}

// typ types s.
func (term *terminal) typ(s string) {
	term.t.Helper()
	if _, err := term.master.WriteString(s); err != nil {
		term.t.Fatal(err)
	}
}

// expect waits until the output after what earlier expects consumed
// contains want, and consumes it up to there.
func (term *terminal) expect(want string) {
	term.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		term.mu.Lock()
		rest := term.out[term.seen:]
		i := bytes.Index(rest, []byte(want))
		if i >= 0 {
			term.seen += i + len(want)
		}
		term.mu.Unlock()
		if i >= 0 {
			return
		}
		select {
		case <-term.eof:
			term.mu.Lock()
			rest = term.out[term.seen:]
			term.mu.Unlock()
			if !bytes.Contains(rest, []byte(want)) {
				term.t.Fatalf("nsscript ended without writing %q; after the last match it wrote:\n%q", want, rest)
			}
			continue
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			term.mu.Lock()
			defer term.mu.Unlock()
			term.t.Fatalf("no %q on the terminal; after the last match it shows:\n%q", want, term.out[term.seen:])
		}
	}
}

// output returns everything written so far.
func (term *terminal) output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return string(term.out)
}

// wait waits for nsscript to exit and returns its error.
func (term *terminal) wait() error {
	term.t.Helper()
	done := make(chan error, 1)
	go func() { done <- term.cmd.Wait() }()
	select {
	case err := <-done:
		<-term.eof
		return err
	case <-time.After(15 * time.Second):
		term.t.Fatalf("nsscript did not exit; it shows:\n%q", term.output())
		return nil
	}
}

func needSandbox(t *testing.T) {
	t.Helper()
	if !sandbox.Inside() {
		t.Skip("builds labs: needs root, runs inside a private network namespace")
	}
}

// replEnv points the state directory and the history file into dir.
func replEnv(dir string) []string {
	return []string{
		"NSSCRIPT_STATE_DIR=" + filepath.Join(dir, "state"),
		"NSSCRIPT_HISTORY=" + filepath.Join(dir, "history"),
	}
}

func TestTerminal(t *testing.T) {
	needSandbox(t)
	dir := t.TempDir()
	env := replEnv(dir)
	term := startTerminal(t, env, "repl", "--name", "tty")
	term.expect("help() lists the builtins")
	term.expect(">>> ")

	// A block: the prompt turns to "... " until the empty line.
	term.typ("hs = []\r")
	term.expect(">>> ")
	term.typ("for i in range(3):\r")
	term.expect("... ")
	term.typ("    hs.append(netns(\"t%d\" % i))\r")
	term.expect("... ")
	term.typ("\r")
	term.expect(">>> ")
	term.typ("hs[2]\r")
	term.expect("<netns t2>")

	// Tab completes vet to veth(, and the call goes through.
	term.typ("vet\t")
	term.expect("veth(")
	term.typ("hs[0], hs[1], name=\"tab0\")\r")
	term.expect("<veth tab0 in t0, t1-t0 in t1>")

	// An error, then a statement that works.
	term.typ("veth(hs[0], nope)\r")
	term.expect("<stdin>:7:13: undefined: nope")
	term.typ("hs[1].name\r")
	term.expect(`"t1"`)

	// Ctrl-C stops a running command and nothing else.
	term.typ("exec(hs[0], \"sleep 30\")\r")
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	term.typ("\x03")
	term.expect("context canceled")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Ctrl-C took %v to stop exec()", d)
	}
	// Ctrl-C also drops the line being typed.
	term.typ("netns(\"dropped\")\x03")
	term.expect("^C")
	term.typ("2 + 2\r")
	term.expect("4")

	// Ctrl-D leaves; the lab stays up.
	term.typ("\x04")
	term.expect("lab tty stays up: 3 netns, 1 veth pair")
	term.expect("remove it with: nsscript down tty")
	if err := term.wait(); err != nil {
		t.Fatalf("nsscript repl: %v\n%q", err, term.output())
	}
	entries, _ := os.ReadDir("/run/netns")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "t0 t1 t2" {
		t.Errorf("namespaces up: %q, want t0 t1 t2", got)
	}
	down := nsscript(t, "down", "tty")
	down.Env = append(down.Env, env...)
	if out, err := down.CombinedOutput(); err != nil {
		t.Fatalf("down: %v\n%s", err, out)
	}
}

// History typed in one session is there in the next: the up arrow and
// Ctrl-R find it.
func TestTerminalHistory(t *testing.T) {
	needSandbox(t)
	dir := t.TempDir()
	env := replEnv(dir)

	term := startTerminal(t, env, "repl", "--name", "h1", "--down-on-exit")
	term.expect(">>> ")
	term.typ("netns(\"hist-a\")\r")
	term.expect("<netns hist-a>")
	term.typ("answer = 42\r")
	term.expect(">>> ")
	term.typ("\x04")
	term.expect("lab h1 is down")
	if err := term.wait(); err != nil {
		t.Fatal(err)
	}
	hist, err := os.ReadFile(filepath.Join(dir, "history"))
	if err != nil || !strings.Contains(string(hist), "netns(\"hist-a\")\nanswer = 42\n") {
		t.Fatalf("history file: %q, %v", hist, err)
	}

	term = startTerminal(t, env, "repl", "--name", "h2", "--down-on-exit")
	term.expect(">>> ")
	term.typ("\x1b[A\x1b[A\r") // up, up: the netns line
	term.expect("<netns hist-a>")
	term.typ("\x12swer\r") // Ctrl-R
	term.expect(">>> ")
	term.typ("answer\r")
	term.expect("42")
	term.typ("\x04")
	term.expect("lab h2 is down")
	if err := term.wait(); err != nil {
		t.Fatal(err)
	}
}

// Typing the tutorial's bridge lab line by line builds what nsscript run
// builds.
func TestTerminalBridgeLab(t *testing.T) {
	needSandbox(t)
	dir := t.TempDir()
	env := replEnv(dir)
	script, err := filepath.Abs("../../scripts/bridge.star")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	before, err := networkState()
	if err != nil {
		t.Fatal(err)
	}

	run := nsscript(t, "run", script)
	run.Env = append(run.Env, env...)
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	want, err := labState()
	if err != nil {
		t.Fatal(err)
	}
	down := func() {
		t.Helper()
		cmd := nsscript(t, "down", "bridge")
		cmd.Env = append(cmd.Env, env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("down: %v\n%s", err, out)
		}
	}
	down()

	term := startTerminal(t, env, "repl", "--name", "bridge")
	term.expect(">>> ")
	for _, line := range strings.Split(string(src), "\n") {
		term.typ(line + "\r")
		if strings.TrimSpace(line) == "" {
			// Let the statement before run; a person reads what it did.
			time.Sleep(50 * time.Millisecond)
		}
	}
	term.typ("print(\"typed\" + \"-all\")\r")
	term.expect("typed-all")
	term.typ("\x04")
	term.expect("lab bridge stays up")
	if err := term.wait(); err != nil {
		t.Fatal(err)
	}
	if out := term.output(); strings.Contains(out, "<stdin>:") {
		t.Errorf("typing the script failed:\n%q", out)
	}
	got, err := labState()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("the typed lab differs from the one nsscript run builds (- run, + typed):\n%s", diffLines(want, got))
	}
	down()
	if after, _ := networkState(); after != before {
		t.Errorf("down left the network changed:\n%s", diffLines(before, after))
	}
}

// Tab completion needs no lab: it works in a dry run, without root.
func TestTerminalDryRunCompletion(t *testing.T) {
	dir := t.TempDir()
	term := startTerminal(t, replEnv(dir), "repl", "--dry-run", "--name", "dry")
	term.expect(">>> ")
	term.typ("red = netns(\"red\")\r")
	term.expect("ip netns add red")
	term.typ("vet\t")
	term.expect("veth(")
	term.typ("red, host, na\t")
	term.expect("name=")
	term.typ("\"x0\")\r")
	term.expect("netns red type veth peer name host-red address ")
	term.typ("_.a.pe\t")
	term.expect("peer")
	term.typ(".name\r")
	term.expect(`"host-red"`)
	term.typ("\x04")
	if err := term.wait(); err != nil {
		t.Fatal(err)
	}
}
