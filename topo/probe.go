package topo

import (
	"net/netip"
	"strconv"
	"time"
)

// Expect is what a script expects of a Probe. The kernel ignores it; a
// backend that cannot look, such as the dry run, prints the check that
// matches it and answers as expected.
type Expect int

const (
	// ExpectNothing is a question, as ping() and pingall() ask it.
	ExpectNothing Expect = iota
	// ExpectReach is an assertion that Dst answers (expect_reach).
	ExpectReach
	// ExpectNoReach is an assertion that Dst does not answer
	// (expect_no_reach).
	ExpectNoReach
)

// Probe is a reachability check: ICMP (IPv4) or ICMPv6 echo requests sent
// from namespace Src (Host for the root namespace) to address Dst.
type Probe struct {
	Src    string
	Dst    netip.Addr
	Expect Expect
}

// ProbeResult is what sending the echo requests of one Probe found.
type ProbeResult struct {
	// Sent is the number of echo requests sent, Received the number
	// answered in time.
	Sent, Received int
	// RTT is the shortest round-trip time of an answered request.
	RTT time.Duration
	// SendErr is why the kernel refused to send a request, such as
	// "network is unreachable" (no route) or "operation not permitted"
	// (a firewall's REJECT or DROP on output); such requests count as
	// sent and lost.
	SendErr error
	// Err is set when the probe could not run at all: Src does not exist,
	// no socket could be opened there, or the run was cancelled.
	Err error
}

// Answered reports whether the probe ran and at least one request was
// answered.
func (r ProbeResult) Answered() bool { return r.Err == nil && r.Received > 0 }

// PingArgv is the ping(8) command line that makes the check of p with
// count requests each waiting up to timeout, to be run in namespace p.Src.
func PingArgv(p Probe, count int, timeout time.Duration) []string {
	return []string{"ping", "-c", strconv.Itoa(count), "-W", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64), p.Dst.String()}
}

// PingLine is the shell line that makes the check of p, as --dry-run
// prints it: `ip netns exec SRC ping -c COUNT -W SECS DST`, which under
// `set -e` stops the script when DST does not answer. For ExpectNoReach
// the check is reversed: `! ip netns exec ... || exit 1` stops the script
// when DST does answer.
func PingLine(p Probe, count int, timeout time.Duration) string {
	line := ExecLine(p.Src, PingArgv(p, count, timeout))
	if p.Expect == ExpectNoReach {
		return "! " + line + " || exit 1"
	}
	return line
}
