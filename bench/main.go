// Command bench measures how long it takes to build and to tear down a lab
// of N network namespaces joined by one Linux bridge, with three builders:
//
//   - shell: the ip-netns tutorial's way, one `ip` command per step;
//   - nsscript: `nsscript run bench/bridge_lab.star --var n=N`, then
//     `nsscript down`;
//   - floor: bench/floor, direct rtnetlink in the fastest order found.
//
// Every run happens in a fresh private network and mount namespace (this
// program re-executes itself there), with tmpfs on /run/netns and on the
// nsscript state directory, so the machine's own network is never touched.
// A build counts only when the lab is verified to work; a teardown counts
// only when nothing of the lab is left. See bench/README.md.
//
// Usage (as root, from the repository root):
//
//	go run ./bench [-n 100,1000] [-builders shell,floor,nsscript] [-runs 3] [-nsscript bin/nsscript]
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sandboxArg, as the first argument, makes this program the child that runs
// one job inside a fresh network and mount namespace.
const sandboxArg = "__sandbox"

var (
	flagN         = flag.String("n", "100,1000", "comma-separated lab sizes (number of namespaces)")
	flagBuilders  = flag.String("builders", "shell,floor,nsscript", "comma-separated builders to run: shell, floor, nsscript")
	flagRuns      = flag.Int("runs", 3, "runs of each builder at each size; the table shows the median")
	flagShellRuns = flag.Int("shell-runs", 1, "runs of the shell builder (it is ~40 times slower); 0 means -runs")
	flagNsscript  = flag.String("nsscript", "", "path of the nsscript binary (default $NSSCRIPT_BIN; else built from ./cmd/nsscript)")
	flagFloor     = flag.String("floor", "", "path of the floor binary (default: built from ./bench/floor)")
	flagPings     = flag.Int("pings", 6, "pings in the verification sample")
	flagQuiet     = flag.Duration("quiet", 15*time.Second, "longest wait for the CPUs to calm down before each timed step")
	flagJSON      = flag.String("json", "", "also write every run's result to this file as JSON")
	flagVerbose   = flag.Bool("v", false, "print progress and the builders' output")
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == sandboxArg {
		os.Exit(sandboxMain(os.Args[2:]))
	}
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: go run ./bench [flags]   (as root, from the repository root)\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: must run as root: it creates network namespaces, links and mounts (inside a private sandbox namespace); try: sudo make bench")
		os.Exit(1)
	}
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// builder is one way to build and tear down the lab.
type builder struct {
	name      string
	up, down  func(n int) []string // argv of each step
	notBuilt  string               // why it cannot run, when it cannot
	runs      int
	extraEnvs []string
}

// result is what one run of one builder at one size measured.
type result struct {
	Builder   string  `json:"builder"`
	N         int     `json:"n"`
	Round     int     `json:"round"`
	BuildS    float64 `json:"build_s"`
	DownS     float64 `json:"teardown_s"`
	BuildKB   int64   `json:"build_peak_rss_kb"`
	DownKB    int64   `json:"teardown_peak_rss_kb"`
	PingRetry int     `json:"ping_retries"`
	IdleBuild float64 `json:"idle_before_build"`
	IdleDown  float64 `json:"idle_before_teardown"`
	Err       string  `json:"error,omitempty"`
}

func run() error {
	sizes, err := parseSizes(*flagN)
	if err != nil {
		return err
	}
	names := strings.Split(*flagBuilders, ",")
	for _, b := range names {
		if !slices.Contains([]string{"shell", "floor", "nsscript"}, b) {
			return fmt.Errorf("unknown builder %q (want shell, floor, nsscript)", b)
		}
	}
	if *flagRuns < 1 {
		return fmt.Errorf("-runs must be at least 1")
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "nsscript-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	stateDir := filepath.Join(tmp, "state") // a tmpfs is mounted on it in each sandbox
	if err := os.Mkdir(stateDir, 0o700); err != nil {
		return err
	}

	var builders []*builder
	for _, name := range names {
		b := &builder{name: name, runs: *flagRuns}
		switch name {
		case "shell":
			if *flagShellRuns > 0 {
				b.runs = *flagShellRuns
			}
			for _, n := range sizes {
				for _, s := range []struct {
					file, text string
				}{{fmt.Sprintf("up-%d.sh", n), shellUp(n)}, {fmt.Sprintf("down-%d.sh", n), shellDown(n)}} {
					if err := os.WriteFile(filepath.Join(tmp, s.file), []byte(s.text), 0o755); err != nil {
						return err
					}
				}
			}
			b.up = func(n int) []string { return []string{"sh", filepath.Join(tmp, fmt.Sprintf("up-%d.sh", n))} }
			b.down = func(n int) []string { return []string{"sh", filepath.Join(tmp, fmt.Sprintf("down-%d.sh", n))} }
		case "floor":
			bin := *flagFloor
			if bin == "" {
				bin = filepath.Join(tmp, "floor")
				if msg := goBuild(root, bin, "./bench/floor"); msg != "" {
					return fmt.Errorf("building bench/floor: %s", msg)
				}
			}
			bin, _ = filepath.Abs(bin)
			b.up = func(n int) []string { return []string{bin, "up", "-n", strconv.Itoa(n)} }
			b.down = func(n int) []string { return []string{bin, "down", "-n", strconv.Itoa(n)} }
		case "nsscript":
			bin, why := findNsscript(root, tmp)
			b.notBuilt = why
			star := filepath.Join(root, "bench", "bridge_lab.star")
			b.up = func(n int) []string {
				return []string{bin, "run", star, "--var", fmt.Sprintf("n=%d", n), "--name", "bench"}
			}
			b.down = func(int) []string { return []string{bin, "down", "bench"} }
			b.extraEnvs = []string{"NSSCRIPT_STATE_DIR=" + stateDir}
		}
		builders = append(builders, b)
	}

	fmt.Printf("nsscript bench: %s, %d CPUs, sizes %v, load average %s\n", kernelRelease(), runtime.NumCPU(), sizes, loadAvg())
	// Rounds: each builder runs once per round, in turn, so that the
	// machine's changing load falls on all of them alike and a round's
	// runs can be compared with each other.
	rounds := 0
	for _, b := range builders {
		rounds = max(rounds, b.runs)
	}
	var all []result
	for _, n := range sizes {
		for r := 1; r <= rounds; r++ {
			for _, b := range builders {
				if b.notBuilt != "" || r > b.runs {
					continue
				}
				if *flagVerbose {
					fmt.Fprintf(os.Stderr, "== %s N=%d run %d/%d\n", b.name, n, r, b.runs)
				}
				res := runJob(job{
					Builder: b.name, N: n, Up: b.up(n), Down: b.down(n),
					Env: b.extraEnvs, StateDir: stateDir, Pings: *flagPings,
					Quiet: *flagQuiet, Verbose: *flagVerbose,
				})
				res.Round = r
				if res.Err != "" {
					fmt.Fprintf(os.Stderr, "bench: %s N=%d run %d: %s\n", b.name, n, r, res.Err)
				} else if *flagVerbose {
					fmt.Fprintf(os.Stderr, "   build %.3f s, teardown %.3f s, peak %.1f MB\n", res.BuildS, res.DownS, mb(max(res.BuildKB, res.DownKB)))
				}
				all = append(all, res)
			}
		}
	}
	printTable(os.Stdout, sizes, builders, all)
	fmt.Printf("\nload average at the end: %s (other work on the machine makes the numbers noisy)\n", loadAvg())
	if *flagJSON != "" {
		data, _ := json.MarshalIndent(all, "", "  ")
		if err := os.WriteFile(*flagJSON, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	for _, r := range all {
		if r.Err != "" {
			return errors.New("some runs failed (see above)")
		}
	}
	return nil
}

// runJob runs one job in a new sandbox: this program again, in fresh network
// and mount namespaces. Go makes every mount private in the child before
// exec, so nothing mounted inside reaches the machine.
func runJob(j job) result {
	res := result{Builder: j.Builder, N: j.N}
	spec, _ := json.Marshal(j)
	self, err := os.Executable()
	if err != nil {
		res.Err = err.Error()
		return res
	}
	cmd := exec.Command(self, sandboxArg, string(spec))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Unshareflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS,
		Pdeathsig:    syscall.SIGKILL,
	}
	runErr := cmd.Run()
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		res.Err = fmt.Sprintf("sandbox failed: %v (%v)", runErr, err)
	}
	return res
}

func parseSizes(s string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 60000 {
			return nil, fmt.Errorf("bad size %q in -n (want 1..60000)", f)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// moduleRoot finds the nsscript repository from the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(data), []byte("module nsscript")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the nsscript repository (go.mod not found)")
		}
		dir = parent
	}
}

// goBuild builds pkg into out and returns "" or the reason it failed.
func goBuild(root, out, pkg string) string {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		// The first line that is not a "# package" header says what failed.
		for _, line := range strings.Split(string(msg), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				return line
			}
		}
		return err.Error()
	}
	return ""
}

// findNsscript returns the nsscript binary to measure, or why there is none.
func findNsscript(root, tmp string) (bin, notBuilt string) {
	bin = *flagNsscript
	if bin == "" {
		bin = os.Getenv("NSSCRIPT_BIN")
	}
	if bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return "", err.Error()
		}
		if st, err := os.Stat(abs); err != nil || st.IsDir() {
			return "", fmt.Sprintf("no binary at %s", bin)
		}
		return abs, ""
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "nsscript")); err != nil {
		return "", "no ./cmd/nsscript"
	}
	bin = filepath.Join(tmp, "nsscript")
	if msg := goBuild(root, bin, "./cmd/nsscript"); msg != "" {
		return "", "build failed: " + msg
	}
	return bin, ""
}

func kernelRelease() string {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return "linux"
	}
	var b []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return "Linux " + string(b)
}

// loadAvg is the 1-, 5- and 15-minute load average.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func mb(kb int64) float64 { return float64(kb) / 1024 }
