package kernel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"

	"nsscript/topo"
)

// netnsDir is where named namespaces live, as for `ip netns`.
const netnsDir = "/run/netns"

func netnsPath(name string) string { return filepath.Join(netnsDir, name) }

// hostFD is the network namespace this process started in: topo.Host.
// Package initialisation runs on the main thread, which no code of this
// package moves, so it is the process's own namespace.
var hostFD, hostErr = func() (int, error) {
	return unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
}()

func hostNS() (int, error) {
	if hostErr != nil {
		return -1, fmt.Errorf("cannot open this process's network namespace: %w", hostErr)
	}
	return hostFD, nil
}

// thread is an OS thread locked to a goroutine of its own, free to change
// network namespace. See onThread.
type thread struct{ moved bool }

// enter moves the thread into the namespace fd refers to.
func (t *thread) enter(fd int) error {
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("entering a network namespace: %w", err)
	}
	t.moved = true
	return nil
}

// unshare moves the thread into a new, empty network namespace.
func (t *thread) unshare() error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("creating a network namespace: %w", err)
	}
	t.moved = true
	return nil
}

// onThread runs fn on a fresh goroutine locked to its OS thread, which fn
// may move between namespaces. Afterwards the thread returns to the host
// namespace and is unlocked only if that worked; otherwise the goroutine
// exits still locked, and the Go runtime discards the thread rather than
// run other goroutines in the wrong namespace.
func onThread(fn func(t *thread) error) error {
	host, err := hostNS()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		t := &thread{}
		err := fn(t)
		if t.moved {
			if serr := unix.Setns(host, unix.CLONE_NEWNET); serr != nil {
				done <- errors.Join(err, fmt.Errorf("returning to the host namespace: %w", serr))
				return
			}
		}
		runtime.UnlockOSThread()
		done <- err
	}()
	return <-done
}

// inNS runs fn in the namespace of c, on a locked thread unless it is the
// host, where every unlocked thread is.
func inNS(c *nsConn, fn func() error) error {
	if c.ns == topo.Host {
		return fn()
	}
	return c.withFD(func(fd int) error {
		return onThread(func(t *thread) error {
			if err := t.enter(fd); err != nil {
				return err
			}
			return fn()
		})
	})
}

// prepareNetnsDir makes /run/netns a shared mount point, as `ip netns add`
// does, so that namespace mounts made later show in every mount namespace
// that shares it.
func prepareNetnsDir() error {
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		return err
	}
	err := unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) {
		// Not a mount point yet.
		if err := unix.Mount(netnsDir, netnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind-mounting %s: %w", netnsDir, err)
		}
		err = unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	}
	if err != nil {
		return fmt.Errorf("making %s a shared mount: %w", netnsDir, err)
	}
	return nil
}

// removeNetns deletes a named namespace as `ip netns del` does: the mount
// goes, and the kernel frees the namespace once nothing else holds it.
func removeNetns(name string) error {
	path := netnsPath(name)
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil &&
		!errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmounting %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
