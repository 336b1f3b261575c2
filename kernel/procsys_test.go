package kernel

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"nsscript/sandbox"
)

// A procSys reads and writes the sysctls of the namespace the calling
// thread is in, through as many procfs instances as it takes, and through
// /proc when it cannot make them; the host's own values stay as they were.
func TestProcSys(t *testing.T) {
	needKernel(t)
	hostDAD := readSysctlHost(t, "net.ipv6.conf.default.accept_dad")
	for _, plain := range []bool{false, true} {
		p := procSys{plain: plain}
		err := onThread(func(th *thread) error {
			for i := range 3 * procSysLookups {
				if err := th.unshare(); err != nil {
					return err
				}
				// (t.Fatal must not run on this goroutine: errors go back.)
				if err := p.noDAD("default"); err != nil {
					return fmt.Errorf("namespace %d: %w", i, err)
				}
				got, err := p.read("net.ipv6.conf.default.accept_dad")
				if err != nil || got != "0" {
					return fmt.Errorf("namespace %d: accept_dad %q, %v; want 0", i, got, err)
				}
				// What /proc shows this thread agrees.
				if b, err := os.ReadFile("/proc/sys/net/ipv6/conf/default/accept_dad"); err != nil || strings.TrimSpace(string(b)) != "0" {
					return fmt.Errorf("namespace %d: /proc says %q, %v", i, b, err)
				}
			}
			return nil
		})
		p.close()
		if err != nil {
			t.Fatal(err)
		}
		if p.plain != plain {
			t.Logf("no procfs instances here: used /proc")
		}
	}
	if got := readSysctlHost(t, "net.ipv6.conf.default.accept_dad"); got != hostDAD {
		t.Errorf("host accept_dad %s, was %s", got, hostDAD)
	}
}

// BenchmarkSysctlInNamespaces writes accept_dad in each of 1,000 new
// namespaces, all alive until the end, through /proc and through procSys's
// own procfs instances; it reports the time of the whole thousand and of
// the last write. Through /proc each lookup walks a dentry chain as long as
// the namespaces before it (see procsys.go).
func BenchmarkSysctlInNamespaces(b *testing.B) {
	if !sandbox.Inside() {
		b.Skip("creates network namespaces: needs root, runs inside a private network namespace")
	}
	const n = 1000
	for _, c := range []struct {
		name  string
		plain bool
	}{{"proc", true}, {"procfs-instances", false}} {
		b.Run(c.name, func(b *testing.B) {
			var total, last time.Duration
			for range b.N {
				p := procSys{plain: c.plain}
				var fds []int
				err := onThread(func(th *thread) error {
					for i := range n {
						if err := th.unshare(); err != nil {
							return err
						}
						fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
						if err != nil {
							return err
						}
						fds = append(fds, fd) // keeps the namespace alive
						t := time.Now()
						if err := p.noDAD("default"); err != nil {
							return err
						}
						d := time.Since(t)
						total += d
						if i == n-1 {
							last += d
						}
					}
					return nil
				})
				p.close()
				for _, fd := range fds {
					unix.Close(fd)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/1000-writes")
			b.ReportMetric(float64(last.Microseconds())/float64(b.N), "µs/last-write")
		})
	}
}
