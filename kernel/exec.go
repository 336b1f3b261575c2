package kernel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"nsscript/topo"
)

// Exec runs argv inside namespace ns (topo.Host for the host) and returns
// what it wrote and its exit status: code is the exit code, or 128+N when
// signal N killed it. err is set only when the command could not start,
// or when ctx ended it (it and its process group are killed then).
//
// Only the network namespace changes: the command sees the same files,
// /sys included, as nsscript.
func (a *Applier) Exec(ctx context.Context, ns string, argv []string, stdin io.Reader) (stdout, stderr []byte, code int, err error) {
	return Exec(ctx, ns, argv, stdin)
}

// Exec is Applier.Exec without an applier: it runs argv in the namespace
// named ns, which must exist.
func Exec(ctx context.Context, ns string, argv []string, stdin io.Reader) (stdout, stderr []byte, code int, err error) {
	if len(argv) == 0 {
		return nil, nil, -1, errors.New("exec: no command given")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var outBuf, errBuf bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &outBuf, &errBuf
	// Its own process group, so that cancelling kills what it started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return unix.Kill(-cmd.Process.Pid, unix.SIGKILL) }
	// A background child that keeps the output pipes open must not hold
	// Wait forever.
	cmd.WaitDelay = 2 * time.Second

	if ns == topo.Host {
		err = cmd.Start()
	} else {
		fd, oerr := openNetns(ns)
		if oerr != nil {
			return nil, nil, -1, oerr
		}
		// The child is forked by the locked thread, and so is born in the
		// namespace that thread entered.
		err = onThread(func(t *thread) error {
			if err := t.enter(fd); err != nil {
				return err
			}
			return cmd.Start()
		})
		unix.Close(fd)
	}
	if err != nil {
		return nil, nil, -1, fmt.Errorf("cannot run %s in %s: %w", argv[0], where(ns), err)
	}
	werr := cmd.Wait()
	stdout, stderr = outBuf.Bytes(), errBuf.Bytes()
	code = cmd.ProcessState.ExitCode()
	if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && st.Signaled() {
		code = 128 + int(st.Signal())
	}
	if cerr := ctx.Err(); cerr != nil {
		return stdout, stderr, code, fmt.Errorf("%s in %s: %w", argv[0], where(ns), cerr)
	}
	var exitErr *exec.ExitError
	if werr != nil && !errors.As(werr, &exitErr) && !errors.Is(werr, exec.ErrWaitDelay) {
		return stdout, stderr, code, fmt.Errorf("%s in %s: %w", argv[0], where(ns), werr)
	}
	return stdout, stderr, code, nil
}
