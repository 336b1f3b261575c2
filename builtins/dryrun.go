package builtins

import (
	"context"
	"io"
	"strings"
	"time"

	"nsscript/topo"
)

// DryRun is the Backend of `--dry-run`: instead of changing the network it
// writes to W a POSIX sh script that would. Each Sync prints the commands
// for what the lab declared since the previous one; each Exec prints the
// command line and reports an empty output and exit code 0; each Probe
// prints a ping(8) command per probe (see topo.PingLine) and reports what
// the script expects: every request answered, none for ExpectNoReach. The
// first output starts with the script's header, naming the lab.
type DryRun struct {
	W io.Writer

	started bool
	done    topo.Mark // how much of the lab is printed already
}

var _ Backend = (*DryRun)(nil)

// Sync prints the commands that build what lab declared since the last
// Sync.
func (d *DryRun) Sync(ctx context.Context, lab *topo.Lab) error {
	if err := d.start(lab.Name); err != nil {
		return err
	}
	// A lab cut back (by a failed REPL chunk) is printed from where it now
	// ends.
	now := lab.Mark()
	for i := range d.done {
		d.done[i] = min(d.done[i], now[i])
	}
	err := lab.Since(d.done).WriteShell(d.W)
	d.done = now
	return err
}

// Exec prints the command line that runs argv in namespace ns and returns
// an empty result with exit code 0.
func (d *DryRun) Exec(ctx context.Context, ns string, argv []string, stdin io.Reader) (stdout, stderr []byte, code int, err error) {
	if err := d.start(""); err != nil {
		return nil, nil, 0, err
	}
	_, err = io.WriteString(d.W, "\n"+topo.ExecLine(ns, argv)+"\n")
	return nil, nil, 0, err
}

// Probe prints the ping command of each probe and reports the answer the
// script expects.
func (d *DryRun) Probe(ctx context.Context, probes []topo.Probe, count int, timeout time.Duration) []topo.ProbeResult {
	results := make([]topo.ProbeResult, len(probes))
	var b strings.Builder
	for i, p := range probes {
		b.WriteString(topo.PingLine(p, count, timeout) + "\n")
		results[i] = topo.ProbeResult{Sent: count, Received: count}
		if p.Expect == topo.ExpectNoReach {
			results[i].Received = 0
		}
	}
	err := d.start("")
	if err == nil {
		_, err = io.WriteString(d.W, "\n"+b.String())
	}
	if err != nil {
		for i := range results {
			results[i].Err = err
		}
	}
	return results
}

func (d *DryRun) start(name string) error {
	if d.started {
		return nil
	}
	d.started = true
	_, err := io.WriteString(d.W, topo.ShellHeader(name))
	return err
}
