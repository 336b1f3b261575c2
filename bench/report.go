package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// summary is the median of the successful runs of one builder at one size.
type summary struct {
	ok, runs    int
	build, down float64
	peakKB      int64
	retries     int
	firstErr    string
	notBuilt    string
}

func summarize(b *builder, n int, all []result) summary {
	s := summary{notBuilt: b.notBuilt}
	var builds, downs []float64
	var peaks []int64
	for _, r := range all {
		if r.Builder != b.name || r.N != n {
			continue
		}
		s.runs++
		if r.Err != "" {
			if s.firstErr == "" {
				s.firstErr = r.Err
			}
			continue
		}
		s.ok++
		s.retries += r.PingRetry
		builds = append(builds, r.BuildS)
		downs = append(downs, r.DownS)
		peaks = append(peaks, max(r.BuildKB, r.DownKB))
	}
	if s.ok > 0 {
		s.build, s.down = median(builds), median(downs)
		slices.Sort(peaks)
		s.peakKB = peaks[(len(peaks)-1)/2]
	}
	return s
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// printTable prints one row per builder and size, then the build-time
// ratios of nsscript to the shell and to the floor.
func printTable(w io.Writer, sizes []int, builders []*builder, all []result) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "builder\tN\tbuild s\tteardown s\tpeak MB\truns\t")
	sums := map[string]map[int]summary{}
	for _, n := range sizes {
		for _, b := range builders {
			s := summarize(b, n, all)
			if sums[b.name] == nil {
				sums[b.name] = map[int]summary{}
			}
			sums[b.name][n] = s
			switch {
			case s.notBuilt != "":
				fmt.Fprintf(tw, "%s\t%d\t-\t-\t-\t-\t  not built (%s)\n", b.name, n, s.notBuilt)
			case s.ok == 0:
				fmt.Fprintf(tw, "%s\t%d\t-\t-\t-\t0/%d\t  FAILED: %s\n", b.name, n, s.runs, s.firstErr)
			default:
				note := ""
				if s.ok < s.runs {
					note = "  some runs failed: " + s.firstErr
				}
				if s.retries > 0 {
					note += fmt.Sprintf("  (%d ping retries)", s.retries)
				}
				fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.1f\t%d/%d\t%s\n", b.name, n, s.build, s.down, mb(s.peakKB), s.ok, s.runs, note)
			}
		}
	}
	tw.Flush()

	ns, ok := sums["nsscript"]
	if !ok {
		return
	}
	fmt.Fprintln(w)
	for _, n := range sizes {
		for _, other := range []string{"shell", "floor"} {
			o, ok := sums[other]
			if !ok {
				continue
			}
			a, b := ns[n], o[n]
			if a.ok == 0 || b.ok == 0 {
				why := "nsscript not built"
				if a.notBuilt == "" {
					why = "a builder failed"
				}
				fmt.Fprintf(w, "build ratio nsscript/%-5s N=%-5d n/a (%s)\n", other, n, why)
				continue
			}
			fmt.Fprintf(w, "build ratio nsscript/%-5s N=%-5d %6.3f  (%.3f s / %.3f s)", other, n, a.build/b.build, a.build, b.build)
			if p := pairedRatios(all, n, "nsscript", other); len(p) >= 2 {
				fmt.Fprintf(w, "; run by run: median %.3f, %.3f to %.3f over %d rounds", median(p), slices.Min(p), slices.Max(p), len(p))
			}
			fmt.Fprintln(w)
		}
	}
}

// pairedRatios divides the build time of builder a by that of builder b in
// each round where both succeeded at size n.
func pairedRatios(all []result, n int, a, b string) []float64 {
	builds := map[string]map[int]float64{a: {}, b: {}}
	for _, r := range all {
		if r.N == n && r.Err == "" && builds[r.Builder] != nil {
			builds[r.Builder][r.Round] = r.BuildS
		}
	}
	var out []float64
	for round, x := range builds[a] {
		if y, ok := builds[b][round]; ok && y > 0 {
			out = append(out, x/y)
		}
	}
	return out
}
