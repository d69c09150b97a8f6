package main

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// progress returns a callback that draws a progress bar on w, or nil when
// w is not a terminal or logs are JSON: cron logs and pipes get no escape
// sequences.
func (g *globals) progress(w io.Writer, what string) func(done, total int, item string) {
	f, ok := w.(*os.File)
	if !ok || g.logFormat == "json" || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return nil
	}
	var bar *progressbar.ProgressBar
	return func(done, total int, item string) {
		if bar == nil {
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionShowCount(),
				progressbar.OptionSetWidth(30), progressbar.OptionClearOnFinish())
		}
		bar.Describe(what + " " + item)
		bar.Set(done)
		if done == total {
			bar.Finish()
		}
	}
}
