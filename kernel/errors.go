package kernel

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"nsscript/topo"
)

// Error is a failure to apply one resource, placed at the script position
// of the call that declared it. It unwraps to the cause, so that
// errors.Is(err, unix.EEXIST) sees the kernel's errno.
type Error struct {
	Pos topo.Pos
	// Op names the resource and where it lives, as in
	// "veth red-br0 (namespace red)".
	Op  string
	Err error
}

// Error says where in the script, what resource, and what went wrong.
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrNotUp is what Down returns (wrapped) for a lab that has no journal:
// never built, or removed already.
var ErrNotUp = errors.New("lab is not up")

// ErrUp is what Open returns (wrapped) for a lab that is up already.
var ErrUp = errors.New("lab is up")

// ErrBusy is what Open and Down return (wrapped) while another process
// holds the lab's lock.
var ErrBusy = errors.New("lab is busy")

// stateError is an error about a whole lab that also matches a sentinel.
type stateError struct {
	msg  string
	kind error
}

func (e *stateError) Error() string        { return e.msg }
func (e *stateError) Is(target error) bool { return target == e.kind }

// hint is an errno explained in the user's terms. It keeps the errno for
// errors.Is.
type hint struct {
	msg string
	err error
}

func (h *hint) Error() string { return h.msg }
func (h *hint) Unwrap() error { return h.err }

func explain(err error, format string, args ...any) error {
	return &hint{fmt.Sprintf(format, args...), err}
}

// where says which namespace ns is, for messages.
func where(ns string) string {
	if ns == topo.Host {
		return "host"
	}
	return "namespace " + ns
}

// why adds advice to errnos that have a usual cause; others pass as they
// are.
func why(err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return explain(err, "%v; nsscript needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)", err)
	case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE):
		return explain(err, "%v; a lab holds a netlink socket per namespace while it is applied: raise the limit (ulimit -n)", err)
	case errors.Is(err, unix.EOPNOTSUPP):
		return explain(err, "%v; the kernel may lack the module for it (veth, bridge)", err)
	}
	return err
}

// taken is the error for a name that something outside the lab has.
func taken(what string) error {
	return explain(unix.EEXIST, "%s exists and is not this lab's; remove it or pick another name", what)
}
