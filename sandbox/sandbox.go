// Package sandbox runs nsscript, or its tests, in a throw-away network
// world: fresh network and mount namespaces with a private tmpfs on /run, so
// that /run/netns and the state directory under /run/nsscript belong to the
// sandbox alone. Nothing created inside is visible from the machine's own
// network, and everything inside vanishes when the sandboxed process exits.
//
// A Go program cannot move itself into new namespaces once it has started
// threads, so a sandbox is made by re-executing the current binary with
// the namespaces created by clone(2) and the child marked through the
// environment; the child calls Init (or Run does) to finish the job.
//
// As root, the sandbox is a new network and mount namespace. As any other
// user it is also a new user namespace in which the caller is root (uid and
// gid 0 mapped to the caller's own), which owns the new network namespace:
// root inside may create namespaces, links, addresses, routes, iptables
// (nf_tables) rules and network sysctls there, and nothing outside. That
// needs unprivileged user namespaces, which some distributions restrict
// (Debian's kernel.unprivileged_userns_clone, Ubuntu's AppArmor
// kernel.apparmor_restrict_unprivileged_userns, user.max_user_namespaces
// set to 0); there, a sandbox needs root.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// EnvInside is the environment variable that marks a process inside a
// sandbox: "new" in the first process, which prepares the sandbox, and
// "ready" in it and every process it starts. A program that starts
// nsscript with an environment of its own making passes it on, or the
// child makes a sandbox of its own.
const EnvInside = "NSSCRIPT_SANDBOX"

// envParent carries the identity of the network and mount namespaces of
// the process that made a sandbox, so that its first process can check it
// is really somewhere else before mounting anything.
const envParent = "NSSCRIPT_SANDBOX_PARENT"

// Inside reports whether this process runs inside a sandbox.
func Inside() bool { return os.Getenv(EnvInside) != "" }

// fresh is set by Init in the first process of a sandbox.
var fresh bool

// Fresh reports whether this process is the first one of a sandbox that
// Init prepared: the sandbox lives exactly as long as this process and
// what it starts.
func Fresh() bool { return fresh }

// Init finishes making the sandbox when this process is the first one of a
// new sandbox (made by Command, Exec or Run): it checks that the process
// is in network and mount namespaces of its own, makes every mount
// private, mounts a tmpfs on /run (and a sysfs on /sys showing the
// sandbox's interfaces), and marks the sandbox ready. Anywhere else it
// does nothing. Programs that may be started in a sandbox call it first
// thing.
func Init() error {
	if os.Getenv(EnvInside) != "new" {
		return nil
	}
	if err := checkPrivate(os.Getenv(envParent)); err != nil {
		return fmt.Errorf("sandbox: refusing to set up: %w", err)
	}
	if err := setUp(); err != nil {
		if errors.Is(err, unix.EPERM) && os.Getenv(envRootless) != "" {
			err = fmt.Errorf("%w (this system may keep unprivileged users from using the user namespace it made; run as root instead)", err)
		}
		return fmt.Errorf("sandbox: %w", err)
	}
	os.Setenv(EnvInside, "ready")
	os.Unsetenv(envParent)
	os.Unsetenv(envRootless)
	fresh = true
	return nil
}

// envRootless marks a sandbox made by a user other than root, for
// messages.
const envRootless = "NSSCRIPT_SANDBOX_ROOTLESS"

// Run calls fn inside a sandbox and returns its exit code; test binaries
// call it from TestMain. Outside a sandbox, as root, it re-executes this
// program inside a new one and returns the child's exit code; inside, it
// prepares the sandbox (Init) and calls fn. Not root, fn runs as it is,
// outside any sandbox: callers that need one check Inside.
func Run(fn func() int) int {
	switch os.Getenv(EnvInside) {
	case "ready":
		return fn()
	case "new":
		if err := Init(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		return fn()
	}
	if os.Geteuid() != 0 {
		return fn()
	}
	code, err := Exec(os.Args[1:]...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sandbox: %v\n", err)
		return 2
	}
	return code
}

// Command returns a command that runs this program again, with args, in a
// new sandbox: a new network and mount namespace, and a new user namespace
// too when not root. It is a sandbox of its own even when this process is
// inside one already. The child must call Init (or Run) before anything
// else. Its environment is this process's, marked; its standard streams
// are the caller's to set.
func Command(args ...string) (*exec.Cmd, error) {
	return CommandContext(context.Background(), args...)
}

// CommandContext is Command with a context that kills the sandbox's first
// process when it ends.
func CommandContext(ctx context.Context, args ...string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program to run it in a sandbox: %w", err)
	}
	parent, err := namespaces()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, args...)
	// Keep the name it was started by: a test binary run under another
	// name (testscript) decides what to do by it.
	cmd.Args[0] = os.Args[0]
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case EnvInside, envParent, envRootless:
		default:
			env = append(env, kv)
		}
	}
	env = append(env, EnvInside+"=new", envParent+"="+parent)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS,
		// Killed with its parent, the sandbox cannot outlive it.
		Pdeathsig: syscall.SIGKILL,
	}
	if uid, gid := os.Geteuid(), os.Getegid(); uid != 0 {
		// Root in a user namespace of its own, which owns the new network
		// and mount namespaces. Go writes the maps before the child runs.
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWUSER
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
		cmd.SysProcAttr.GidMappingsEnableSetgroups = false
		env = append(env, envRootless+"=1")
	}
	cmd.Env = env
	// Processes the child leaves behind must not hold Wait forever.
	cmd.WaitDelay = 2 * time.Second
	return cmd, nil
}

// Exec runs this program again with args in a new sandbox (see Command),
// attached to this process's standard input, output and error, and
// returns its exit code (128+N when signal N killed it). While it runs,
// this process ignores SIGINT and SIGQUIT: the terminal sends them to the
// child too, which decides what they mean.
func Exec(args ...string) (int, error) {
	cmd, err := Command(args...)
	if err != nil {
		return 0, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	signal.Ignore(syscall.SIGINT, syscall.SIGQUIT)
	defer signal.Reset(syscall.SIGINT, syscall.SIGQUIT)
	return ExitCode(cmd.Run())
}

// ExitCode turns what running a sandbox's command returned into its exit
// code: 0 for nil, the exit status, or 128+N for a process killed by
// signal N. Other errors (it could not start) are returned as they are,
// explained.
func ExitCode(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if st, ok := exit.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			return 128 + int(st.Signal()), nil
		}
		return exit.ExitCode(), nil
	}
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EINVAL) {
		if os.Geteuid() != 0 {
			return 0, fmt.Errorf("cannot make a sandbox: %w; this system does not let unprivileged users create user namespaces (see sysctls kernel.unprivileged_userns_clone, user.max_user_namespaces, kernel.apparmor_restrict_unprivileged_userns); run as root instead", err)
		}
	}
	return 0, fmt.Errorf("cannot start a sandbox: %w", err)
}

// namespaces identifies this process's network and mount namespaces, as
// "net:[N] mnt:[M]".
func namespaces() (string, error) {
	net, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return "", fmt.Errorf("reading this process's network namespace: %w", err)
	}
	mnt, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return "", fmt.Errorf("reading this process's mount namespace: %w", err)
	}
	return net + " " + mnt, nil
}

// checkPrivate checks that this process is in neither the network nor the
// mount namespace of the process that made the sandbox (parent, as
// namespaces wrote it): mounting a tmpfs on /run there would hide the
// machine's own.
func checkPrivate(parent string) error {
	if parent == "" {
		return fmt.Errorf("%s=new is set, but not by a process that made new namespaces (%s is missing)", EnvInside, envParent)
	}
	self, err := namespaces()
	if err != nil {
		return err
	}
	p, s := strings.Fields(parent), strings.Fields(self)
	if len(p) != 2 || p[0] == s[0] || p[1] == s[1] {
		return fmt.Errorf("not in network and mount namespaces of its own (%s, its maker's %s)", self, parent)
	}
	return nil
}

// setUp gives the sandbox its own /run (and so its own /run/netns and state
// directory) and a /sys that shows the sandbox's interfaces.
func setUp() error {
	// Go makes mounts private itself only for namespaces it unshares;
	// these were made by clone(2), so nothing mounted inside may
	// propagate back to the machine until this is done.
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
	// The loopback of a new namespace is down; labs, tests and ping of
	// 127.0.0.1 expect it up, as in any other host.
	if err := loopbackUp(); err != nil {
		return fmt.Errorf("bringing lo up: %w", err)
	}
	os.Unsetenv("NSSCRIPT_STATE_DIR")
	return nil
}

// loopbackUp sets IFF_UP on lo, the only interface of a new namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}
