package view

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/terrarium-evals/terrarium/internal/loopback"
)

// chromium finds the browser, or skips the test; under
// TERRARIUM_REQUIRE_BROWSER=1 (CI) a missing browser fails it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("TERRARIUM_REQUIRE_BROWSER") == "1" {
		t.Fatal("no Chromium on PATH and TERRARIUM_REQUIRE_BROWSER=1 (install Debian's chromium)")
	}
	t.Skip("browser test skipped: no Chromium on PATH (apt-get install chromium; TERRARIUM_REQUIRE_BROWSER=1 makes this a failure)")
	return ""
}

// artifacts is where screenshots go: $TERRARIUM_ARTIFACTS, else a
// temporary directory; the test log says which.
func artifacts(t *testing.T) string {
	dir := os.Getenv("TERRARIUM_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// TestBrowser drives the viewer in headless Chromium, one browser for every
// page: each page loads; hovering a bar of the rates chart shows its k/n and
// clicking it opens the runs page with exactly its n runs; a run opened
// from there has every evidence link pointing at a highlighted element,
// and following one scrolls to it. Each page is saved as a PNG.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	dir := artifacts(t)

	srv := httptest.NewUnstartedServer(nil)
	port, err := loopback.Port(srv.Listener)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = loopback.Guard(New(fixture.db), port, false)
	srv.Start()
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1200, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, stop := context.WithTimeout(ctx, 3*time.Minute)
	defer stop()

	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	open := func(path, waitFor string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+path), chromedp.WaitVisible(chromedp.CSS(waitFor))); err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}

	open("/", "table.grid")
	if s := text("table.grid"); !strings.Contains(s, fixture.blackmail) {
		t.Errorf("experiments page lacks %s:\n%s", fixture.blackmail, s)
	}
	shot("experiments")
	open("/experiments/"+fixture.blackmail, "table.kv")
	shot("experiment")
	open("/compare?by=model&experiment="+fixture.blackmail, "table.compare")
	shot("compare")

	// The rates chart: the blackmailer's blackmail bar in the README's
	// condition.
	open("/rates?experiment="+fixture.blackmail, "svg.rates")
	shot("rates")
	saveAs := func(name string, png []byte, err error) {
		t.Helper()
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
		}
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
	}
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#chart-blackmail")))
	saveAs("rates-chart", png, err)
	bar := `#chart-blackmail a.bar[data-model="scripted:blackmailer"][data-n="3"]`
	n, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('`+bar+`').dataset.n`))
	if err != nil {
		t.Fatalf("find the bar: %v", err)
	}
	box, err := chromedp.Run(ctx, chromedp.Dimensions(chromedp.CSS(bar+" rect.fill")))
	if err != nil {
		t.Fatalf("bar box: %v", err)
	}
	q := box.Content
	x, y := (q[0]+q[2])/2, (q[1]+q[5])/2
	if err := chromedp.Do(ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y)); err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const t = document.querySelector('`+bar+` .kn');
		return getComputedStyle(t).visibility + ' ' + t.textContent })()`))
	if err != nil || shown != "visible 3/3" {
		t.Errorf("hovering the bar shows %q (%v), want \"visible 3/3\"", shown, err)
	}
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(x, y), chromedp.WaitVisible(chromedp.CSS("#count"))); err != nil {
		t.Fatalf("click the bar: %v", err)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('tr.run-row').length`))
	if err != nil || !strings.Contains(loc, "/runs?") || strconv.Itoa(rows) != n {
		t.Fatalf("the bar (n=%s) led to %s with %d runs (%v)", n, loc, rows, err)
	}
	shot("runs")

	// Open the first run; every evidence link has a highlighted target.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("a.run-link")), chromedp.WaitVisible(chromedp.CSS("table.verdicts"))); err != nil {
		t.Fatalf("open a run: %v", err)
	}
	type check struct {
		Links   int      `json:"links"`
		Missing []string `json:"missing"`
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[check](`(() => {
		const out = {links: 0, missing: []};
		for (const a of document.querySelectorAll('a.evidence-link')) {
			out.links++;
			const id = a.getAttribute('href').slice(1), el = document.getElementById(id);
			if (!el || !(el.classList.contains('evidence'))) out.missing.push(id);
		}
		return out; })()`))
	if err != nil {
		t.Fatalf("check evidence: %v", err)
	}
	if res.Links == 0 || len(res.Missing) > 0 {
		t.Errorf("run page: %d evidence links, missing or unhighlighted targets: %v", res.Links, res.Missing)
	}
	shot("run")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("a.evidence-link"))); err != nil {
		t.Fatal(err)
	}
	target, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const el = document.querySelector(':target'); return el ? el.id : ''; })()`))
	if err != nil || target == "" {
		t.Errorf("following an evidence link targets %q (%v)", target, err)
	}
	png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
	saveAs("run-evidence", png, err)
}
