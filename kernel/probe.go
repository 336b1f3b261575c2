package kernel

import (
	"context"
	"time"

	"nsscript/kernel/icmp"
	"nsscript/topo"
)

// Probe sends count ICMP or ICMPv6 echo requests for each probe from its
// source namespace (a lab namespace, or topo.Host) to its destination,
// each waiting up to timeout for its reply, through raw sockets (package
// icmp): no ping binary is run. Probes run concurrently, at most
// icmp.DefaultInflight at a time, with one socket per source namespace and
// address family. The results come in the order of probes.
//
// A full mesh of more than about 32 namespaces on one segment outgrows the
// kernel's shared neighbour tables unless the lab has permanent neighbour
// entries (topo.Neighbor); see the icmp package documentation.
func (a *Applier) Probe(ctx context.Context, probes []topo.Probe, count int, timeout time.Duration) []topo.ProbeResult {
	return Probe(ctx, probes, count, timeout)
}

// Probe is Applier.Probe without an applier: the source namespaces must
// exist.
func Probe(ctx context.Context, probes []topo.Probe, count int, timeout time.Duration) []topo.ProbeResult {
	in := make([]icmp.Probe, len(probes))
	for i, p := range probes {
		in[i] = icmp.Probe{Dst: p.Dst}
		if p.Src != topo.Host {
			in[i].Src = netnsPath(p.Src)
		}
	}
	out := make([]topo.ProbeResult, len(probes))
	for i, r := range icmp.Matrix(ctx, in, count, timeout, 0) {
		out[i] = topo.ProbeResult{Sent: r.Sent, Received: r.Received, RTT: r.Min(), SendErr: r.SendErr, Err: r.Err}
	}
	return out
}
