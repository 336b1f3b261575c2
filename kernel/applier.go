package kernel

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"nsscript/topo"
)

// Applier builds one lab in the kernel, step by step, journaling each
// change. It is made by Open and ends with Close (the lab stays up) or
// Abort (everything is removed again). Its methods are safe for concurrent
// use, but run one at a time.
type Applier struct {
	mu    sync.Mutex
	lab   string
	alias string // of the lab's links in the host; topo.RuleComment
	group uint32 // of the lab's links in the host; topo.LinkGroup
	dir   string
	lock  *os.File
	j     *journal
	meta  labMeta
	mark  topo.Mark
	// ifindex caches the index of every interface the lab made.
	ifindex map[ifKey]int
	// broken is set when a Sync failed: only RollbackTo or Abort may follow.
	broken error
	done   bool

	// Progress, if set, is called as each Sync goes, with how much of it
	// is done; a user interface shows it. See Progress.
	Progress func(Progress)
}

type ifKey struct{ ns, name string }

// Open starts a run of lab: it creates <stateDir>/<lab>/, takes the lab's
// lock, and starts its journal. stateDir "" means StateDir(). It fails with
// ErrUp when the lab is up already (its journal records changes), and with
// ErrBusy while another process holds the lock.
func Open(stateDir, lab string, meta Meta) (*Applier, error) {
	if err := checkLabName(lab); err != nil {
		return nil, err
	}
	if _, err := hostNS(); err != nil {
		return nil, err
	}
	if stateDir == "" {
		stateDir = StateDir()
	}
	dir := filepath.Join(stateDir, lab)
	lock, err := lockLab(dir, lab)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Applier, error) {
		lock.Close()
		return nil, err
	}
	jpath := filepath.Join(dir, journalFile)
	recs, err := readJournal(jpath)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fail(fmt.Errorf("lab %s: %w; `nsscript down %s` may still remove what it can read", lab, err, lab))
	case len(liveRecords(recs)) > 0:
		m, merr := readMeta(dir)
		return fail(upError(lab, m, merr))
	}
	// No journal, or one with nothing left in it (a run killed before its
	// first change): start afresh.
	j, err := createJournal(jpath)
	if err != nil {
		return fail(fmt.Errorf("lab %s: creating its journal: %w", lab, err))
	}
	a := &Applier{
		lab:   lab,
		alias: topo.RuleComment(lab),
		group: topo.LinkGroup(lab),
		dir:   dir,
		lock:  lock,
		j:     j,
		meta: labMeta{
			Name:    lab,
			Script:  meta.Script,
			Vars:    meta.Vars,
			PID:     os.Getpid(),
			Started: time.Now().UTC(),
		},
		ifindex: map[ifKey]int{},
	}
	if err := writeMeta(dir, a.meta); err != nil {
		j.close()
		return fail(fmt.Errorf("lab %s: writing %s: %w", lab, metaFile, err))
	}
	return a, nil
}

// Sync applies everything lab declares that no earlier Sync applied; what
// it declares may refer by name to resources applied before. After an
// error, the kernel holds part of what was declared: the caller must
// RollbackTo a savepoint or Abort before anything else.
func (a *Applier) Sync(ctx context.Context, lab *topo.Lab) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.usable(); err != nil {
		return err
	}
	mark := lab.Mark()
	for k := range mark {
		if mark[k] < a.mark[k] {
			return fmt.Errorf("lab %s: the lab holds less than was applied; truncate it only after RollbackTo", a.lab)
		}
	}
	todo := lab.Since(a.mark)
	if todo.Empty() {
		return nil
	}
	s := &syncer{a: a, lab: lab, todo: todo, conns: conns{}, upNow: map[ifKey]bool{}}
	s.pr.fn = a.Progress
	s.pr.p = Progress{
		Netns:  Count{Total: len(todo.Netns)},
		Links:  Count{Total: len(todo.Bridges) + 2*len(todo.Veths)},
		Addrs:  Count{Total: len(todo.Addrs)},
		Routes: Count{Total: len(todo.Routes)},
	}
	err := s.run(ctx)
	s.conns.close()
	s.sys.close()
	if err != nil {
		a.broken = err
		return err
	}
	a.mark = mark
	return nil
}

// usable reports why the applier cannot take more work, if it cannot.
func (a *Applier) usable() error {
	switch {
	case a.done:
		return fmt.Errorf("lab %s: this run is over (closed or aborted)", a.lab)
	case a.broken != nil:
		return fmt.Errorf("lab %s: an earlier apply failed (%v); roll it back first", a.lab, a.broken)
	}
	return nil
}

// Savepoint is a point in a run that RollbackTo can return to.
type Savepoint struct {
	seq  int
	mark topo.Mark
}

// Savepoint returns the current point of the run.
func (a *Applier) Savepoint() Savepoint {
	a.mu.Lock()
	defer a.mu.Unlock()
	return Savepoint{seq: a.j.last(), mark: a.mark}
}

// RollbackTo undoes every change made after sp and forgets that the
// resources applied since were applied; the caller truncates its lab to
// match (topo.Lab.Truncate). It waits until what it removes is gone.
func (a *Applier) RollbackTo(ctx context.Context, sp Savepoint) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done {
		return fmt.Errorf("lab %s: this run is over (closed or aborted)", a.lab)
	}
	var after []record
	for _, r := range a.j.live() {
		if r.Seq > sp.seq {
			after = append(after, r)
		}
	}
	if err := undo(ctx, a.lab, after); err != nil {
		return err
	}
	if _, err := a.j.add(record{Op: opRollback, Ref: sp.seq}); err != nil {
		return err
	}
	a.mark = sp.mark
	a.broken = nil
	clear(a.ifindex)
	return nil
}

// Abort undoes every change of this run, waits until it is gone, removes
// the lab's state directory and releases the lock. If undoing fails, the
// journal stays, so that `nsscript down` can finish the job.
func (a *Applier) Abort(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done {
		return nil
	}
	if err := undo(ctx, a.lab, a.j.live()); err != nil {
		return err
	}
	a.done = true
	a.j.close()
	err := removeState(a.dir)
	a.lock.Close()
	return err
}

// Close ends a successful run: the lab is marked up, with the time and
// what it holds, and the lock is released. The journal stays for Down.
func (a *Applier) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done {
		return nil
	}
	a.done = true
	defer a.lock.Close()
	now := time.Now().UTC()
	counts := countRecords(a.j.live())
	a.meta.Finished, a.meta.Counts = &now, &counts
	jerr := a.j.close()
	if err := writeMeta(a.dir, a.meta); err != nil {
		return fmt.Errorf("lab %s: writing %s: %w", a.lab, metaFile, err)
	}
	return jerr
}
