package kernel

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Journal ops. See the package documentation.
const (
	opNetns    = "netns"
	opBridge   = "bridge"
	opVeth     = "veth"
	opAddr     = "addr"
	opRoute    = "route"
	opSysctl   = "sysctl"
	opIptables = "iptables"
	opNeigh    = "neigh"
	opFail     = "fail"
	opRollback = "rollback"
)

// record is one line of a journal: a change about to be made, or an
// amendment of earlier ones (fail, rollback).
type record struct {
	Seq int    `json:"seq"`
	Op  string `json:"op"`
	Pos string `json:"pos,omitempty"`

	// netns: Name. bridge: NS, Name. veth: NS, Name and PeerNS, Peer.
	NS     string `json:"ns,omitempty"`
	Name   string `json:"name,omitempty"`
	PeerNS string `json:"peer_ns,omitempty"`
	Peer   string `json:"peer,omitempty"`

	// addr: NS, Dev, Addr. route: NS, Dst, Via, Dev, Metric.
	Dev    string `json:"dev,omitempty"`
	Addr   string `json:"addr,omitempty"`
	Dst    string `json:"dst,omitempty"`
	Via    string `json:"via,omitempty"`
	Metric int    `json:"metric,omitempty"`

	// sysctl: NS, Key, Old (the value before), Value (the value written).
	Key   string  `json:"key,omitempty"`
	Old   *string `json:"old,omitempty"`
	Value string  `json:"value,omitempty"`

	// iptables: NS, Table, Chain, Rule (the rule spec after -A/-D CHAIN).
	Table string   `json:"table,omitempty"`
	Chain string   `json:"chain,omitempty"`
	Rule  []string `json:"rule,omitempty"`

	// neigh: NS, Dev, and the permanent entries added there, in order.
	Neighs []neighEntry `json:"neighs,omitempty"`

	// fail: the record whose change was not made. rollback: every change
	// after Ref has been undone.
	Ref int `json:"ref,omitempty"`
}

// neighEntry is one permanent neighbour entry of a neigh record.
type neighEntry struct {
	Addr string `json:"addr"`
	MAC  string `json:"lladdr"`
}

// journal is the append-only file of a lab's changes, with a copy of its
// records in memory. It is safe for concurrent use.
type journal struct {
	mu   sync.Mutex
	path string
	f    *os.File
	recs []record
}

// createJournal starts an empty journal at path.
func createJournal(path string) (*journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &journal{path: path, f: f}, nil
}

// add appends r, numbering it, and returns its number. The record is kept
// in memory even when writing it fails.
func (j *journal) add(r record) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r.Seq = len(j.recs) + 1
	j.recs = append(j.recs, r)
	line, err := json.Marshal(r)
	if err != nil {
		return r.Seq, err
	}
	line = append(line, '\n')
	if _, err := j.f.Write(line); err != nil {
		return r.Seq, fmt.Errorf("writing the journal %s: %w", j.path, err)
	}
	return r.Seq, nil
}

// fail records that the change of record seq was not made.
func (j *journal) fail(seq int) {
	// Kept in memory even when the write fails, so that this process does
	// not undo what it did not do; a later Down may try, and finds nothing.
	j.add(record{Op: opFail, Ref: seq})
}

// last returns the number of the last record.
func (j *journal) last() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.recs)
}

// live returns the records of changes made and not undone, in order.
func (j *journal) live() []record {
	j.mu.Lock()
	defer j.mu.Unlock()
	return liveRecords(j.recs)
}

func (j *journal) close() error { return j.f.Close() }

// readJournal reads the journal at path. A last line cut short (the
// process died while writing it) is ignored: its change was not made yet.
func readJournal(path string) ([]record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var recs []record
	r := bufio.NewReader(bytes.NewReader(data))
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			// No newline: a torn last write, or nothing.
			return recs, nil
		}
		var rec record
		if jerr := json.Unmarshal(line, &rec); jerr != nil {
			return recs, fmt.Errorf("journal %s is damaged at line %d: %v", path, n, jerr)
		}
		recs = append(recs, rec)
	}
}

// liveRecords returns the records of changes made and not undone.
func liveRecords(recs []record) []record {
	dead := map[int]bool{}
	for _, r := range recs {
		switch r.Op {
		case opFail:
			dead[r.Ref] = true
		case opRollback:
			for s := r.Ref + 1; s < r.Seq; s++ {
				dead[s] = true
			}
		}
	}
	var out []record
	for _, r := range recs {
		if r.Op != opFail && r.Op != opRollback && !dead[r.Seq] {
			out = append(out, r)
		}
	}
	return out
}

// Counts says how many things of each kind a lab owns.
type Counts struct {
	Netns int `json:"netns"`
	// Links counts interfaces: one per bridge, two per veth pair.
	Links   int `json:"links"`
	Addrs   int `json:"addrs"`
	Routes  int `json:"routes"`
	Rules   int `json:"rules"`
	Sysctls int `json:"sysctls"`
	// Neighbors counts permanent neighbour entries.
	Neighbors int `json:"neighbors"`
}

func countRecords(live []record) Counts {
	var c Counts
	for _, r := range live {
		switch r.Op {
		case opNetns:
			c.Netns++
		case opBridge:
			c.Links++
		case opVeth:
			c.Links += 2
		case opAddr:
			c.Addrs++
		case opRoute:
			c.Routes++
		case opIptables:
			c.Rules++
		case opSysctl:
			c.Sysctls++
		case opNeigh:
			c.Neighbors += len(r.Neighs)
		}
	}
	return c
}
