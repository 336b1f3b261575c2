package icmp

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// startNS is the namespace "" stands for: the one the process started in,
// which is its main thread's.
const startNS = "/proc/self/ns/net"

// socketWant is a socket to open: which namespace, which family.
type socketWant struct {
	ns string
	v6 bool
}

// nsName names namespace ns in messages.
func nsName(ns string) string {
	if ns == "" {
		return "the initial network namespace"
	}
	return ns
}

// nsID identifies a namespace file's namespace.
type nsID struct{ dev, ino uint64 }

func fstatNS(fd int) (nsID, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nsID{}, err
	}
	return nsID{st.Dev, st.Ino}, nil
}

// openSockets opens a raw socket for each want, in its namespace, and
// returns them with, for each, the error that kept it from opening. When ctx
// ends first, the remaining wants get ctx.Err().
//
// The sockets are opened on a fresh goroutine locked to its thread, which
// visits each namespace in turn. The thread goes back to the Go scheduler
// only if it is back in the namespace it started in; otherwise the goroutine
// exits locked and the runtime discards the thread.
func openSockets(ctx context.Context, wants []socketWant) ([]*socket, []error) {
	fds := make([]int, len(wants))
	errs := make([]error, len(wants))
	if len(wants) == 0 {
		return nil, errs
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if err := openAll(ctx, wants, fds, errs); err != nil {
			// Still in a foreign namespace: keep the thread locked so it
			// dies with this goroutine. The sockets are fine.
			return
		}
		runtime.UnlockOSThread()
	}()
	<-done

	socks := make([]*socket, len(wants))
	for i, w := range wants {
		if errs[i] != nil {
			continue
		}
		socks[i], errs[i] = newSocket(fds[i], w.ns, w.v6)
	}
	return socks, errs
}

// openAll does openSockets' work on the locked calling thread, leaving each
// socket in fds or its error in errs. It returns an error only when it could
// not return the thread to its original namespace.
func openAll(ctx context.Context, wants []socketWant, fds []int, errs []error) error {
	// The thread's own namespace: /proc/self is the main thread's.
	orig, err := unix.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("icmp: opening this thread's network namespace: %w", err)
		}
		return nil
	}
	defer unix.Close(orig)
	origID, err := fstatNS(orig)
	if err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("icmp: reading this thread's network namespace: %w", err)
		}
		return nil
	}
	cur := origID

	for i, w := range wants {
		if err := ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		id, err := enter(w.ns, cur)
		if err != nil {
			errs[i] = err
			continue
		}
		cur = id
		family, proto := unix.AF_INET, unix.IPPROTO_ICMP
		if w.v6 {
			family, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
		}
		fds[i], err = unix.Socket(family, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			hint := ""
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
				hint = " (raw sockets need CAP_NET_RAW)"
			}
			errs[i] = fmt.Errorf("icmp: opening raw socket in %s: %w%s", nsName(w.ns), err, hint)
		}
	}

	if cur != origID {
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			return err
		}
	}
	return nil
}

// enter switches the calling thread, now in namespace cur, to namespace ns,
// and returns the identity of ns. It does nothing when the thread is in ns
// already. When it fails, the thread is still in cur.
func enter(ns string, cur nsID) (nsID, error) {
	path := ns
	if path == "" {
		path = startNS
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return cur, fmt.Errorf("icmp: opening network namespace %s: %w", nsName(ns), err)
	}
	defer unix.Close(fd)
	id, err := fstatNS(fd)
	if err != nil {
		return cur, fmt.Errorf("icmp: reading network namespace %s: %w", nsName(ns), err)
	}
	if id == cur {
		return cur, nil
	}
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		hint := ""
		switch {
		case errors.Is(err, unix.EINVAL):
			hint = " (not a network namespace file?)"
		case errors.Is(err, unix.EPERM):
			hint = " (entering a namespace needs CAP_SYS_ADMIN)"
		}
		return cur, fmt.Errorf("icmp: entering network namespace %s: %w%s", nsName(ns), err, hint)
	}
	return id, nil
}
