package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The TestBrowser… tests drive the pages in headless Chromium (the system
// chromium, Debian's package in CI) against a running demo: the real
// control plane, bus and door agent. They skip when Chromium or axe-core
// cannot be found, and fail instead when CI is set.
//
// Each page a test checks is examined by axe-core at 1280 px and 390 px
// wide (no serious or critical violation may remain) and saved as a
// screenshot at both widths under the test's temp dir and, when
// DOORMAN_SCREENSHOTS=DIR is set, under DIR.

// axeVersion is the axe-core the tests inject (npm axe-core).
const axeVersion = "4.14.1"

// widths are the viewport widths every page is checked at: a desktop and
// a phone.
var widths = []struct {
	name          string
	width, height int64
	mobile        bool
}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}}

// needBrowser skips the test, or fails it under CI, when what the browser
// tests need is missing.
func needBrowser(t *testing.T, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("browser tests need %s: %v", what, err)
	}
	t.Skipf("browser tests need %s: %v", what, err)
}

// chromiumPath finds the system Chromium.
func chromiumPath() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no chromium on PATH (apt-get install chromium)")
}

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// loadAxe reads axe-core's script: from DOORMAN_AXE_JS, or from npm's
// package installed once into the user's cache directory.
func loadAxe() (string, error) {
	axeOnce.Do(func() {
		path := os.Getenv("DOORMAN_AXE_JS")
		if path == "" {
			cache, err := os.UserCacheDir()
			if err != nil {
				axeErr = err
				return
			}
			dir := filepath.Join(cache, "doorman-test", "axe-core@"+axeVersion)
			path = filepath.Join(dir, "node_modules", "axe-core", "axe.min.js")
			if _, err := os.Stat(path); err != nil {
				cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", dir, "axe-core@"+axeVersion)
				if out, err := cmd.CombinedOutput(); err != nil {
					axeErr = fmt.Errorf("npm install axe-core@%s: %v: %s", axeVersion, err, out)
					return
				}
			}
		}
		data, err := os.ReadFile(path)
		axeSource, axeErr = string(data), err
	})
	return axeSource, axeErr
}

// browser is one headless Chromium for a test.
type browser struct {
	alloc context.Context
	axe   string
	dirs  []string // where screenshots go
}

// newBrowser starts headless Chromium for t, closed when t ends.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		needBrowser(t, "Chromium", err)
	}
	axe, err := loadAxe()
	if err != nil {
		needBrowser(t, "axe-core", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	b := &browser{alloc: alloc, axe: axe, dirs: []string{filepath.Join(t.TempDir(), "screenshots")}}
	if dir := os.Getenv("DOORMAN_SCREENSHOTS"); dir != "" {
		b.dirs = append(b.dirs, dir)
	}
	// The first context starts the browser; users get contexts of their
	// own from it.
	first, cancelFirst := chromedp.NewContext(alloc)
	t.Cleanup(cancelFirst)
	if err := chromedp.Do(first); err != nil {
		needBrowser(t, "a Chromium that starts", err)
	}
	b.alloc = first
	return b
}

// user returns a tab in a browser context of its own: its own cookies,
// as a different person's browser would have.
func (b *browser) user(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.alloc, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	if err := chromedp.Do(ctx, emulate(widths[0].width, widths[0].height, false)); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

func emulate(width, height int64, mobile bool) chromedp.Action[chromedp.Void] {
	if mobile {
		return chromedp.EmulateViewport(width, height, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	return chromedp.EmulateViewport(width, height)
}

// axeViolation is what the tests keep of an axe-core violation.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []string `json:"target"`
		HTML   string   `json:"html"`
	} `json:"nodes"`
}

const runAxe = `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({
	id: v.id, impact: v.impact || "", help: v.help,
	nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.map(String), html: n.html}))})))`

// check examines the page the tab shows, as name, at every width: axe-core
// may find no serious or critical violation, and a screenshot is saved.
// The tab is left at the desktop width.
func (b *browser) check(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for _, w := range widths {
		var violations []axeViolation
		var shot []byte
		var injected bool
		err := chromedp.Do(ctx, emulate(w.width, w.height, w.mobile))
		if err == nil {
			injected, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined"`))
		}
		if err == nil && !injected {
			_, err = chromedp.Run(ctx, chromedp.Evaluate[any](b.axe))
		}
		if err == nil {
			violations, err = chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](runAxe, chromedp.EvalAwaitPromise))
		}
		if err == nil {
			shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		}
		if err != nil {
			t.Fatalf("%s at %d px: %v", name, w.width, err)
		}
		for _, dir := range b.dirs {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%s.png", name, w.name)), shot, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, v := range violations {
			if v.Impact == "serious" || v.Impact == "critical" {
				var where []string
				for _, n := range v.Nodes {
					where = append(where, strings.Join(n.Target, " ")+" "+n.HTML)
				}
				t.Errorf("%s at %d px: axe %s (%s): %s\n\t%s", name, w.width, v.ID, v.Impact, v.Help, strings.Join(where, "\n\t"))
			}
		}
	}
	if err := chromedp.Do(ctx, emulate(widths[0].width, widths[0].height, false)); err != nil {
		t.Fatal(err)
	}
}

// startBrowserDemo starts a demo (control plane, bus, door agent, seeded
// building) on free ports for a browser test.
func startBrowserDemo(t *testing.T) *Demo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := DefaultConfig()
	cfg.HTTPAddr, cfg.NATSListen = "127.0.0.1:0", "127.0.0.1:0"
	d, err := StartDemo(ctx, cfg, t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// text returns the text of the first element matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// submit clicks the submit button sel (or presses it with the keyboard
// for a form field) and waits until the browser shows the page the form
// led to: a new document, fully loaded.
func submit(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.__doormanOld = true`)); err != nil {
		t.Fatalf("submit %s: %v", sel, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("submit %s: %v", sel, err)
	}
	waitNewPage(t, ctx)
}

// waitNewPage waits until the tab shows a new, loaded document.
func waitNewPage(t *testing.T, ctx context.Context) {
	t.Helper()
	// Evaluating while the tab navigates fails ("target navigated"):
	// that only means the next page is not there yet.
	deadline := time.Now().Add(30 * time.Second)
	for {
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!window.__doormanOld && document.readyState === "complete"`))
		if err == nil && done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("wait for the next page: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// signInManager signs the tab in to the console.
func signInManager(t *testing.T, ctx context.Context, base, email, pw string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/console/signin"),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), pw),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	submit(t, ctx, "main form button[type=submit]")
}

// TestBrowserSignIn: the landing page and the sign-in form are accessible;
// a wrong password is told without saying whether the email exists; the
// demo's manager signs in and sees the building, and signs out.
func TestBrowserSignIn(t *testing.T) {
	b := newBrowser(t)
	d := startBrowserDemo(t)
	base := d.Main.URL()
	ctx := b.user(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	b.check(t, ctx, "home")

	signInManager(t, ctx, base, DemoManagerEmail, "not the password")
	if got := text(t, ctx, ".error"); !strings.Contains(got, "do not match") {
		t.Fatalf("wrong password told %q", got)
	}
	b.check(t, ctx, "console-signin-error")

	signInManager(t, ctx, base, DemoManagerEmail, DemoManagerPassword)
	if got := text(t, ctx, "main"); !strings.Contains(got, "Maple Court") {
		t.Fatalf("console shows %q, want the demo building", got)
	}
	b.check(t, ctx, "console-buildings")

	submit(t, ctx, "form.signout button")
	if got := text(t, ctx, ".notice"); !strings.Contains(got, "signed out") {
		t.Fatalf("after signing out: %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/console"), chromedp.WaitVisible(chromedp.ID("email"))); err != nil {
		t.Fatalf("after signing out the console must ask to sign in again: %v", err)
	}
}
