package kernel

import (
	"fmt"
	"os"
	"strings"
	"testing"
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
