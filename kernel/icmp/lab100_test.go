package icmp

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// lab100Env turns TestMatrixLab100 on.
const lab100Env = "NSSCRIPT_ICMP_LAB100"

// TestMatrixLab100 is the package's benchmark: it builds 100 namespaces on
// one bridge, probes all 9,900 ordered IPv4 pairs with Matrix, and compares
// that with a loop running `ip netns exec hX ping -c1 -W1` per pair on the
// same lab. The loop runs on a sample of the pairs, spread over all sources,
// and its time is extrapolated to all of them. It takes about 10 seconds, so
// it runs only when asked for:
//
//	NSSCRIPT_ICMP_LAB100=1 go test -run TestMatrixLab100 -v ./kernel/icmp
func TestMatrixLab100(t *testing.T) {
	if os.Getenv(lab100Env) == "" {
		t.Skipf("benchmark: run with %s=1 go test -run TestMatrixLab100 -v ./kernel/icmp", lab100Env)
	}
	needSandbox(t)
	const n, sample = 100, 300

	start := time.Now()
	l := newLab(t, "h", n, true)
	t.Logf("lab of %d namespaces on one bridge, permanent neighbour entries, built in %v", n, time.Since(start).Round(time.Millisecond))

	var probes []Probe
	for src := 1; src <= n; src++ {
		for dst := 1; dst <= n; dst++ {
			if src != dst {
				probes = append(probes, Probe{Src: l.path(src), Dst: l.v4(dst)})
			}
		}
	}

	matrix := func(what string) (time.Duration, []string) {
		start := time.Now()
		results := Matrix(context.Background(), probes, 1, time.Second, 0)
		took := time.Since(start)
		var failed []string
		for _, r := range results {
			if !r.OK() {
				failed = append(failed, fmt.Sprintf("%s → %s: %d/%d, send error %v, error %v", r.Src, r.Dst, r.Received, r.Sent, r.SendErr, r.Err))
			}
		}
		t.Logf("Matrix, %s: %d pairs in %v, %d not answered", what, len(probes), took.Round(time.Millisecond), len(failed))
		return took, failed
	}
	cold, failed := matrix("first run")
	warm, _ := matrix("second run")

	var loop time.Duration
	if _, err := exec.LookPath("ping"); err != nil {
		t.Log("no ping binary here: no comparison")
	} else {
		step := len(probes) / sample
		start := time.Now()
		lost := 0
		for i := 0; i < sample; i++ {
			p := probes[i*step]
			ns := p.Src[len("/run/netns/"):]
			if err := exec.Command("ip", "netns", "exec", ns, "ping", "-c1", "-W1", "-q", p.Dst.String()).Run(); err != nil {
				lost++
			}
		}
		took := time.Since(start)
		loop = took * time.Duration(len(probes)) / sample
		t.Logf("ping loop: %d sampled pairs (1 in %d, all sources) in %v, %d not answered; extrapolated to %d pairs: %v",
			sample, step, took.Round(time.Millisecond), lost, len(probes), loop.Round(time.Millisecond))
		t.Logf("Matrix is %.0f× faster than the ping loop (%.0f× on its second run)", float64(loop)/float64(cold), float64(loop)/float64(warm))
	}

	if len(failed) > 0 {
		t.Errorf("%d of %d pairs not answered, e.g. %v", len(failed), len(probes), failed[:min(5, len(failed))])
	}
	if cold >= 2*time.Second {
		t.Errorf("Matrix over %d pairs took %v, want < 2s", len(probes), cold)
	}
}
