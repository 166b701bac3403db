package main

import (
	"context"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// noSideScroll fails the test if the page the tab shows is wider than a
// 390 px phone: nothing may make the whole page scroll sideways (wide
// tables scroll inside their own region). The tab is left at the desktop
// width.
func noSideScroll(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	phone, desktop := widths[1], widths[0]
	if err := chromedp.Do(ctx, emulate(phone.width, phone.height, phone.mobile)); err != nil {
		t.Fatal(err)
	}
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const w = `+strconv.Itoa(int(phone.width))+`, out = [];
		if (document.documentElement.scrollWidth <= w) return out;
		for (const el of document.querySelectorAll("body *")) {
			const r = el.getBoundingClientRect();
			if (r.right > w + 1 && !el.closest(".table-wrap")) out.push(el.tagName.toLowerCase() + "." + el.className + " right=" + Math.round(r.right));
		}
		return out.slice(0, 8);
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(wide) > 0 {
		t.Errorf("%s is wider than a %d px phone: %v", name, phone.width, wide)
	}
	if err := chromedp.Do(ctx, emulate(desktop.width, desktop.height, false)); err != nil {
		t.Fatal(err)
	}
}
