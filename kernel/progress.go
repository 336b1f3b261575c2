package kernel

// Progress says how far a Sync or a Down is: of each kind of object, how
// many are done out of how many this Sync (or Down) handles. Links count
// interfaces: one per bridge, two per veth pair.
type Progress struct {
	Netns, Links, Addrs, Routes Count
}

// Count is done out of total.
type Count struct{ Done, Total int }

// Done is the number of objects done, of every kind.
func (p Progress) Done() int { return p.Netns.Done + p.Links.Done + p.Addrs.Done + p.Routes.Done }

// Total is the number of objects to do, of every kind.
func (p Progress) Total() int {
	return p.Netns.Total + p.Links.Total + p.Addrs.Total + p.Routes.Total
}

// progress reports to fn, if set, every step of a Sync or Down. The
// callback runs on the applying goroutine or one of its locked threads;
// it must be quick and must not call back into the kernel package.
type progress struct {
	fn func(Progress)
	p  Progress
}

func (pr *progress) tick(c *Count, n int) {
	if pr == nil || pr.fn == nil {
		return
	}
	c.Done += n
	pr.fn(pr.p)
}
