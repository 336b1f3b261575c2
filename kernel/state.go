package kernel

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultStateDir is where labs keep their journals unless
// $NSSCRIPT_STATE_DIR says otherwise.
const DefaultStateDir = "/run/nsscript"

// StateDir returns $NSSCRIPT_STATE_DIR, or DefaultStateDir.
func StateDir() string {
	if d := os.Getenv("NSSCRIPT_STATE_DIR"); d != "" {
		return d
	}
	return DefaultStateDir
}

// Files in a lab's state directory.
const (
	lockFile    = "lock"
	metaFile    = "meta.json"
	journalFile = "journal"
)

// Meta describes the run that builds a lab, for `nsscript ls`.
type Meta struct {
	// Script is the path of the script that declares the lab.
	Script string
	// Vars are the --var values it ran with.
	Vars map[string]string
}

// labMeta is the content of meta.json.
type labMeta struct {
	Name     string            `json:"name"`
	Script   string            `json:"script,omitempty"`
	Vars     map[string]string `json:"vars,omitempty"`
	PID      int               `json:"pid"`
	Started  time.Time         `json:"started"`
	Finished *time.Time        `json:"finished,omitempty"`
	Counts   *Counts           `json:"counts,omitempty"`
}

func readMeta(dir string) (labMeta, error) {
	var m labMeta
	data, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return m, err
	}
	err = json.Unmarshal(data, &m)
	return m, err
}

// writeMeta replaces meta.json atomically.
func writeMeta(dir string, m labMeta) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, metaFile+".tmp")
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, metaFile))
}

// checkLabName reports whether lab can name a lab and its directory.
func checkLabName(lab string) error {
	if lab == "" || lab == "." || lab == ".." || strings.ContainsAny(lab, "/\x00") {
		return fmt.Errorf("lab name %q is not usable; use a name without '/'", lab)
	}
	return nil
}

// lockLab creates the state directory of lab and takes its lock, without
// waiting. The lock is held for as long as the returned file is open.
func lockLab(dir, lab string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	for range 5 {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating the state directory of lab %s: %w", lab, err)
		}
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("opening the lock of lab %s: %w", lab, err)
		}
		if err := flockOrphaned(f, dir); err != nil {
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				who := "another nsscript"
				if m, merr := readMeta(dir); merr == nil && m.PID > 0 {
					who = fmt.Sprintf("nsscript (pid %d)", m.PID)
				}
				return nil, &stateError{fmt.Sprintf("lab %s is being built or removed by %s right now; wait for it to finish, or stop it and run `nsscript down %s`", lab, who, lab), ErrBusy}
			}
			return nil, fmt.Errorf("locking lab %s: %w", lab, err)
		}
		// A Down may have removed the directory between our open and our
		// lock; then the lock is on a file nobody else will find.
		var held, now unix.Stat_t
		if unix.Fstat(int(f.Fd()), &held) == nil && unix.Stat(path, &now) == nil &&
			held.Dev == now.Dev && held.Ino == now.Ino {
			return f, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("lab %s: its state directory %s keeps changing; is another nsscript removing it?", lab, dir)
}

// orphanWait is how long a lock whose recorded owner is dead may stay held:
// a run killed between fork and exec of a child (iptables, exec()) leaves
// the child holding the lock until its exec closes it.
const orphanWait = 3 * time.Second

// flockOrphaned takes the lock on f without waiting, unless the process
// recorded in dir's meta is dead: then the lock can only be held for a
// moment by its orphaned child, and it waits up to orphanWait.
func flockOrphaned(f *os.File, dir string) error {
	deadline := time.Now().Add(orphanWait)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EWOULDBLOCK) || time.Now().After(deadline) {
			return err
		}
		if m, merr := readMeta(dir); merr != nil || alive(m.PID) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// removeState removes a lab's state directory. The caller holds its lock.
func removeState(dir string) error {
	for _, f := range []string{journalFile, metaFile, metaFile + ".tmp", lockFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", dir, err)
	}
	return nil
}

// upError explains why a lab with a journal cannot be opened.
func upError(lab string, m labMeta, merr error) error {
	switch {
	case merr != nil:
		return &stateError{fmt.Sprintf("lab %s is up (its journal exists); `nsscript down %s` removes it", lab, lab), ErrUp}
	case m.Finished != nil:
		return &stateError{fmt.Sprintf("lab %s is up since %s; `nsscript down %s` removes it (re-applying a changed script to a lab that is up is not supported yet)",
			lab, m.Finished.Local().Format(time.DateTime), lab), ErrUp}
	default:
		return &stateError{fmt.Sprintf("lab %s was left half-built by a run started at %s (pid %d) that did not finish; `nsscript down %s` removes what it made",
			lab, m.Started.Local().Format(time.DateTime), m.PID, lab), ErrUp}
	}
}

// alive reports whether process pid exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
