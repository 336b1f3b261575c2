package kernel

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"nsscript/topo"
)

// nsConn is an open namespace: a netlink socket that lives in it. A Sync
// uses a raw socket that batches its requests (rt); an undo uses the
// netlink package's handle (nl). Each opens only the one it uses.
type nsConn struct {
	ns string
	nl *netlink.Handle
	rt *rtConn
}

func (c *nsConn) close() {
	if c.nl != nil {
		c.nl.Close()
	}
	if c.rt != nil {
		c.rt.discard()
		c.rt.close()
	}
}

// withFD calls fn with a descriptor of the namespace, open only for the
// call: a lab of thousands of namespaces keeps one descriptor (its netlink
// socket) per namespace open during a Sync, not two.
func (c *nsConn) withFD(fn func(fd int) error) error {
	fd, err := openNetns(c.ns)
	if err != nil {
		return err
	}
	if c.ns != topo.Host {
		defer unix.Close(fd)
	}
	return fn(fd)
}

// conns holds the namespaces open during one Sync or undo, by topo name.
// Each holds a socket, so a conns is closed as soon as its work is done.
type conns map[string]*nsConn

func (cs conns) close() {
	for name, c := range cs {
		c.close()
		delete(cs, name)
	}
}

// errNoNetns is returned by open for a lab namespace whose file is gone.
var errNoNetns = errors.New("namespace does not exist")

// open opens the namespaces in names that cs lacks. One thread visits them
// all to create their netlink sockets: raw batching ones when raw is set,
// netlink handles otherwise. With skipMissing, a namespace whose
// /run/netns file is missing is left out instead of failing.
func (cs conns) open(names []string, skipMissing, raw bool) error {
	var need []string
	seen := map[string]bool{}
	for _, n := range names {
		if cs[n] == nil && !seen[n] {
			seen[n] = true
			need = append(need, n)
		}
	}
	if len(need) == 0 {
		return nil
	}
	var opened []*nsConn
	err := onThread(func(t *thread) error {
		for _, n := range need {
			c := &nsConn{ns: n}
			err := c.withFD(func(fd int) error {
				if err := t.enter(fd); err != nil {
					return fmt.Errorf("%s: %w", where(n), err)
				}
				var err error
				if raw {
					c.rt, err = dialRoute()
				} else {
					c.nl, err = netlink.NewHandle(unix.NETLINK_ROUTE)
				}
				if err != nil {
					return fmt.Errorf("opening netlink in %s: %w", where(n), why(err))
				}
				return nil
			})
			if errors.Is(err, errNoNetns) && skipMissing {
				continue
			}
			if err != nil {
				return err
			}
			opened = append(opened, c)
		}
		return nil
	})
	for _, c := range opened {
		if err != nil {
			c.close()
		} else {
			cs[c.ns] = c
		}
	}
	return err
}

// openNetns opens the namespace named n (topo.Host for the host).
func openNetns(n string) (int, error) {
	if n == topo.Host {
		return hostNS()
	}
	fd, err := unix.Open(netnsPath(n), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return -1, fmt.Errorf("namespace %s: %s: %w", n, netnsPath(n), errNoNetns)
	}
	if err != nil {
		return -1, fmt.Errorf("opening namespace %s: %w", n, err)
	}
	return fd, nil
}

// listLinks dumps the links of a namespace, retrying a dump that the kernel
// interrupted because the list changed meanwhile.
func listLinks(h *netlink.Handle) ([]netlink.Link, error) {
	var err error
	for range 10 {
		var links []netlink.Link
		links, err = h.LinkList()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return links, err
		}
	}
	return nil, err
}

// isNotFound reports whether err says a link does not exist.
func isNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV)
}
