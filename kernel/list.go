package kernel

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Lab states, as List reports them.
const (
	// StateUp is a lab whose run finished.
	StateUp = "up"
	// StateApplying is a lab whose run is going on.
	StateApplying = "applying"
	// StateIncomplete is a lab whose run stopped before it finished
	// (killed): `nsscript down` removes what it made.
	StateIncomplete = "incomplete"
)

// LabInfo describes a lab in the state directory.
type LabInfo struct {
	Name string `json:"name"`
	// State is StateUp, StateApplying or StateIncomplete.
	State    string            `json:"state"`
	Script   string            `json:"script,omitempty"`
	Vars     map[string]string `json:"vars,omitempty"`
	PID      int               `json:"pid,omitempty"`
	Started  time.Time         `json:"started"`
	Finished *time.Time        `json:"finished,omitempty"`
	// Counts says what the lab owns now, from its journal.
	Counts Counts `json:"counts"`
}

// List returns the labs that have a journal in stateDir ("" means
// StateDir()), sorted by name. A missing state directory holds no labs.
func List(stateDir string) ([]LabInfo, error) {
	if stateDir == "" {
		stateDir = StateDir()
	}
	entries, err := os.ReadDir(stateDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var labs []LabInfo
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(stateDir, e.Name())
		recs, err := readJournal(filepath.Join(dir, journalFile))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		info := LabInfo{Name: e.Name(), Counts: countRecords(liveRecords(recs))}
		if m, err := readMeta(dir); err == nil {
			info.Script, info.Vars, info.PID = m.Script, m.Vars, m.PID
			info.Started, info.Finished = m.Started, m.Finished
		}
		switch {
		case info.Finished != nil:
			info.State = StateUp
		case alive(info.PID):
			info.State = StateApplying
		default:
			info.State = StateIncomplete
		}
		labs = append(labs, info)
	}
	sort.Slice(labs, func(i, j int) bool { return labs[i].Name < labs[j].Name })
	return labs, nil
}
