package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"nsscript/kernel"
)

// Progress bars for run and down: shown only on a terminal, without
// --quiet, and only for work big enough to take more than a moment (more
// than progressMin objects, or still going after progressDelay).
const (
	progressMin   = 100
	progressDelay = 500 * time.Millisecond
)

// progressUI turns kernel.Progress callbacks into a bar on w.
type progressUI struct {
	mu    sync.Mutex
	w     io.Writer
	verb  string
	start time.Time
	bar   *progressbar.ProgressBar
	last  kernel.Progress
}

// newProgress returns the callback to hand the kernel and a func that ends
// the bar, or nils when no bar is to be shown.
func newProgress(w io.Writer, quiet bool, verb string) (func(kernel.Progress), func()) {
	f, ok := w.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, func() {}
	}
	ui := &progressUI{w: w, verb: verb, start: time.Now()}
	return ui.update, ui.finish
}

func (ui *progressUI) update(p kernel.Progress) {
	ui.mu.Lock()
	defer ui.mu.Unlock()
	ui.last = p
	if ui.bar == nil {
		if p.Total() <= progressMin && time.Since(ui.start) < progressDelay {
			return
		}
		ui.bar = progressbar.NewOptions(p.Total(),
			progressbar.OptionSetWriter(ui.w),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("obj"),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionClearOnFinish(),
		)
	}
	if ui.bar.GetMax() != p.Total() {
		ui.bar.ChangeMax(p.Total())
	}
	ui.bar.Describe(fmt.Sprintf("%s netns %d/%d  links %d/%d  addrs %d/%d  routes %d/%d", ui.verb,
		p.Netns.Done, p.Netns.Total, p.Links.Done, p.Links.Total,
		p.Addrs.Done, p.Addrs.Total, p.Routes.Done, p.Routes.Total))
	ui.bar.Set(p.Done())
}

// finish removes the bar, if one was shown.
func (ui *progressUI) finish() {
	ui.mu.Lock()
	defer ui.mu.Unlock()
	if ui.bar != nil {
		ui.bar.Finish()
		ui.bar = nil
	}
}
