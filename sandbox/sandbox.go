// Package sandbox runs nsscript, or its tests, in a throw-away network
// world: fresh network and mount namespaces with a private tmpfs on /run, so
// that /run/netns and the state directory under /run/nsscript belong to the
// sandbox alone. Nothing created inside is visible from the machine's own
// network, and everything inside vanishes when the sandboxed process exits.
//
// A Go program cannot move itself into new namespaces once it has started
// threads, so Run re-executes the current binary with the namespaces set up
// by clone(2), marks the child through the environment, and waits for it.
package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// EnvInside is the environment variable that marks a process inside a
// sandbox made by Run: "new" in the first process, which prepares the
// sandbox, and "ready" in it and every process it starts. A program that
// starts nsscript with an environment of its own making passes it on, or
// the child makes a sandbox of its own.
const EnvInside = "NSSCRIPT_SANDBOX"

// Inside reports whether this process runs inside a sandbox.
func Inside() bool { return os.Getenv(EnvInside) != "" }

// Run calls fn inside a sandbox and returns its exit code. Outside a
// sandbox it re-executes this program inside a new one and returns the
// child's exit code; inside, it prepares the sandbox's mounts and calls fn.
// When the sandbox cannot be made (not root), fn runs as it is, outside any
// sandbox: callers that need one check Inside.
func Run(fn func() int) int {
	switch os.Getenv(EnvInside) {
	case "ready":
		return fn()
	case "new":
		if err := setUp(); err != nil {
			fmt.Fprintf(os.Stderr, "sandbox: %v\n", err)
			return 2
		}
		os.Setenv(EnvInside, "ready")
		return fn()
	}
	if os.Geteuid() != 0 {
		return fn()
	}
	code, err := reexec()
	if err != nil {
		fmt.Fprintf(os.Stderr, "sandbox: %v\n", err)
		return 2
	}
	return code
}

// reexec runs this program again, with the same arguments, in new network
// and mount namespaces.
func reexec() (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), EnvInside+"=new")
	// Go makes every mount private in the child when it unshares the mount
	// namespace, so nothing mounted inside propagates back to the machine.
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Unshareflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS,
		Pdeathsig:    syscall.SIGKILL,
	}
	// The child gets the terminal's signals itself; the parent only waits.
	signal.Ignore(syscall.SIGINT, syscall.SIGQUIT)
	defer signal.Reset(syscall.SIGINT, syscall.SIGQUIT)
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if st, ok := exit.Sys().(syscall.WaitStatus); ok && st.Signaled() {
				return 128 + int(st.Signal()), nil
			}
			return exit.ExitCode(), nil
		}
		return 0, fmt.Errorf("cannot start %s in new namespaces: %w", self, err)
	}
	return 0, nil
}

// setUp gives the sandbox its own /run (and so its own /run/netns and state
// directory) and a /sys that shows the sandbox's interfaces.
func setUp() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	if err := unix.Mount("tmpfs", "/run", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return fmt.Errorf("mounting a private /run: %w", err)
	}
	if err := os.MkdirAll("/run/netns", 0o755); err != nil {
		return err
	}
	// /sys shows the interfaces of the network namespace that mounted it;
	// a fresh one makes tools such as `ip -d link` agree with netlink.
	// Best effort: nothing of nsscript's own reads /sys.
	_ = unix.Mount("sysfs", "/sys", "sysfs", 0, "")
	os.Unsetenv("NSSCRIPT_STATE_DIR")
	return nil
}
