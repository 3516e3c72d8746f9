package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium starts headless Chromium (Debian's chromium; a test fails
// without it in CI and skips elsewhere) with a window of width by height
// and the environment env (TZ=…), for at most timeout, and returns the
// context of its first tab and what ends it before the test does (it ends
// with the test anyway).
func Chromium(tb testing.TB, width, height int, timeout time.Duration, env ...string) (context.Context, context.CancelFunc) {
	tb.Helper()
	chromium, err := LookTool("chromium")
	if err != nil {
		if InCI() {
			tb.Fatal(err)
		}
		tb.Skip(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(tb.TempDir()), chromedp.WindowSize(width, height),
	}
	if len(env) > 0 {
		opts = append(opts, chromedp.Env(env...))
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(bctx, timeout)
	cancel := func() { cancelT(); cancelB(); cancelA() }
	tb.Cleanup(cancel)
	return ctx, cancel
}
