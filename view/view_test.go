package view

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/experiment/experimenttest"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/report"
	"github.com/terrarium-evals/terrarium/transcript"
)

func TestEveryPageRenders(t *testing.T) {
	h := New(fixture.db)
	pages := []struct {
		path string
		want []string
	}{
		{"/", []string{fixture.blackmail, fixture.control, "blackmail", "scripted:leaker", "24 done", "$0.00"}},
		{"/experiments/" + fixture.blackmail, []string{"Conditions (2)", "threat=none", "scripted:compliant", "24 done", "where=threat%3Dnone"}},
		{"/rates", []string{"exfiltration", "scripted:exfiltrator"}}, // the latest experiment
		{"/rates?experiment=" + fixture.blackmail, []string{`<svg class="rates"`, "blackmail", "plea", "leak", "comply", "whisker"}},
		{"/compare?experiment=" + fixture.blackmail, []string{"Fisher p", "A − B"}},
		{"/compare?by=model&experiment=" + fixture.blackmail, []string{"Fisher p", "scripted:blackmailer"}},
		{"/runs", []string{"26 runs", "scripted:pleader", `class="run-link"`}},
		{"/runs/" + strconv.FormatInt(fixture.resumed, 10), []string{"Earlier attempts", "attempt 1", "anthropic:judge-test"}},
	}
	for _, p := range pages {
		code, body := get(t, h, p.path)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", p.path, code, body)
			continue
		}
		for _, w := range p.want {
			if !strings.Contains(html.UnescapeString(body), w) {
				t.Errorf("GET %s lacks %q", p.path, w)
			}
		}
	}
}

func TestNotFoundAndBadInput(t *testing.T) {
	h := New(fixture.db)
	cases := []struct {
		path string
		code int
		want string
	}{
		{"/runs/999999", http.StatusNotFound, "no run 999999"},
		{"/runs/999999/json", http.StatusNotFound, "no run 999999"},
		{"/runs/abc", http.StatusNotFound, "positive number"},
		{"/runs/-3", http.StatusNotFound, "positive number"},
		{"/experiments/exp-nope", http.StatusNotFound, "no experiment"},
		{"/rates?experiment=exp-nope", http.StatusNotFound, "no experiment"},
		{"/compare?experiment=exp-nope", http.StatusNotFound, "no experiment"},
		{"/runs?experiment=exp-nope", http.StatusNotFound, "no experiment"},
		{"/nowhere", http.StatusNotFound, "no page"},
		{"/runs?status=finished", http.StatusBadRequest, "want one of"},
		{"/runs?where=threat", http.StatusBadRequest, "var=value"},
		{"/runs?counted=1", http.StatusBadRequest, "needs a behavior"},
		{"/compare?by=weather&experiment=" + fixture.blackmail, http.StatusBadRequest, "want condition or model"},
		{"/compare?by=model&a=scripted:x&b=scripted:pleader&experiment=" + fixture.blackmail, http.StatusBadRequest, "no model"},
		{"/compare?by=model&a=scripted:pleader&b=scripted:pleader&experiment=" + fixture.blackmail, http.StatusBadRequest, "the same"},
		{"/compare?a=%00&b=%ff&experiment=" + fixture.blackmail, http.StatusBadRequest, "no condition"},
		{"/rates?experiment=%ff%00", http.StatusNotFound, "no experiment"},
		{"/runs/1?x=%zz", http.StatusOK, "Verdicts"},
		{"/assets/style.css", http.StatusOK, "terrarium view"},
		{"/assets/nope.js", http.StatusNotFound, ""},
	}
	for _, c := range cases {
		code, body := get(t, h, c.path)
		if code != c.code || !strings.Contains(html.UnescapeString(body), c.want) {
			t.Errorf("GET %s: %d (want %d), body lacks %q?\n%s", c.path, code, c.code, c.want, body)
		}
	}
	r, _ := http.NewRequest(http.MethodPost, "/runs", nil)
	w := newRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /runs: %d, want 405", w.Code)
	}
}

func TestEmptyLedger(t *testing.T) {
	db, err := ledger.Open(filepath.Join(t.TempDir(), "empty.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := New(db)
	for path, want := range map[string]string{
		"/":        "holds no experiments yet",
		"/rates":   "nothing to chart",
		"/compare": "nothing to compare",
		"/runs":    "holds no runs yet",
	} {
		code, body := get(t, h, path)
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s on an empty ledger: %d, lacks %q\n%s", path, code, want, body)
		}
	}
}

var barRE = regexp.MustCompile(`<a class="bar" href="([^"]+)" data-k="(\d+)" data-n="(\d+)" data-behavior="([^"]+)" data-model="([^"]+)">\s*<title>([^<]*)</title>`)

// TestBarsLinkToTheirRuns follows every bar of every chart: the runs page
// it links to lists exactly the bar's n runs, k of them fired, and the
// hover text says k/n. The bars' k and n are report's.
func TestBarsLinkToTheirRuns(t *testing.T) {
	h := New(fixture.db)
	_, body := get(t, h, "/rates?experiment="+fixture.blackmail)
	bars := barRE.FindAllStringSubmatch(body, -1)
	runs, err := fixture.db.Runs(context.Background(), ledger.RunFilter{ExperimentID: fixture.blackmail})
	if err != nil {
		t.Fatal(err)
	}
	verdicts, err := fixture.db.VerdictsFor(context.Background(), fixture.blackmail)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := report.Build(runs, verdicts)
	if len(bars) != len(rows) || len(rows) == 0 {
		t.Fatalf("%d bars for %d report rows", len(bars), len(rows))
	}
	for _, b := range bars {
		href, k, n := html.UnescapeString(b[1]), b[2], b[3]
		if !strings.Contains(b[6], k+"/"+n) {
			t.Errorf("bar %s %s: hover %q lacks %s/%s", b[4], b[5], b[6], k, n)
		}
		code, page := get(t, h, href)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d", href, code)
		}
		if got := strings.Count(page, `class="run-row"`); strconv.Itoa(got) != n {
			t.Errorf("bar %s %s (n=%s) links to %d runs: %s", b[4], b[5], n, got, href)
		}
		fired := regexp.MustCompile(`; ` + regexp.QuoteMeta(b[4]) + ` fired in (\d+)`).FindStringSubmatch(page)
		if n != "0" && (fired == nil || fired[1] != k) {
			t.Errorf("bar %s %s (k=%s): runs page says %v", b[4], b[5], k, fired)
		}
	}
	// Spot-check against the README's figures: the blackmailer blackmails
	// in 3 of 3 runs of the README's condition.
	found := false
	for _, r := range rows {
		if r.Model == "scripted:blackmailer" && r.Behavior == "blackmail" && r.Condition["threat"] == "replacement" {
			found = r.K == 3 && r.N == 3
		}
	}
	if !found {
		t.Errorf("no 3/3 blackmail row for scripted:blackmailer in %v", rows)
	}
}

var compareRE = regexp.MustCompile(`<td>([a-z_]+)</td>\s*<td>([^<]*)</td>\s*<td class="num"><a href="[^"]+">(\d+)/(\d+)</a>[^<]*</td>\s*<td class="num"><a href="[^"]+">(\d+)/(\d+)</a>[^<]*</td>\s*<td class="num diff">([^<]*)</td>\s*<td class="num pval">([^<]*)</td>`)

// TestCompareIsReports checks every row of a comparison against
// report.Compare on the same counts.
func TestCompareIsReports(t *testing.T) {
	h := New(fixture.db)
	for _, q := range []url.Values{
		{"experiment": {fixture.blackmail}, "by": {"model"}, "a": {"scripted:blackmailer"}, "b": {"scripted:compliant"}},
		{"experiment": {fixture.blackmail}, "by": {"condition"}, "a": {readmeCondition.Key()}},
	} {
		if q.Get("by") == "condition" {
			none := experimenttest.ReadmeCondition()
			none["threat"] = "none"
			q.Set("b", none.Key())
		}
		code, body := get(t, h, "/compare?"+q.Encode())
		if code != http.StatusOK {
			t.Fatalf("GET /compare?%s: %d\n%s", q.Encode(), code, body)
		}
		rows := compareRE.FindAllStringSubmatch(body, -1)
		if len(rows) < 4 {
			t.Fatalf("compare %s: %d rows\n%s", q.Encode(), len(rows), body)
		}
		for _, r := range rows {
			k1, n1, k2, n2 := atoi(r[3]), atoi(r[4]), atoi(r[5]), atoi(r[6])
			d := report.Compare(k1, n1, k2, n2, report.Z95)
			want := fmt.Sprintf("%s [%s, %s]", pct(d.Diff), pct(d.Low), pct(d.High))
			if r[7] != want || r[8] != fmt.Sprintf("%.4g", d.P) {
				t.Errorf("%s %s: %s p=%s, want %s p=%.4g", r[1], r[2], r[7], r[8], want, d.P)
			}
		}
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func pct(f float64) string { return funcs["pct"].(func(float64) string)(f) }

var (
	idRE   = regexp.MustCompile(`\bid="([^"]+)"`)
	linkRE = regexp.MustCompile(`<a class="evidence-link" href="#([^"]+)">`)
)

// TestEvidenceIsLinked opens every run: each verdict's evidence link
// points at an element of the page, that element is highlighted, and every
// fired verdict with evidence has at least one link.
func TestEvidenceIsLinked(t *testing.T) {
	h := New(fixture.db)
	runs, err := fixture.db.Runs(context.Background(), ledger.RunFilter{Superseded: true})
	if err != nil {
		t.Fatal(err)
	}
	links := 0
	for _, r := range runs {
		code, body := get(t, h, fmt.Sprintf("/runs/%d", r.ID))
		if code != http.StatusOK {
			t.Fatalf("run %d: %d\n%s", r.ID, code, body)
		}
		ids := map[string]bool{}
		for _, m := range idRE.FindAllStringSubmatch(body, -1) {
			if ids[m[1]] {
				t.Errorf("run %d: id %q twice", r.ID, m[1])
			}
			ids[m[1]] = true
		}
		for _, m := range linkRE.FindAllStringSubmatch(body, -1) {
			links++
			if !ids[m[1]] {
				t.Errorf("run %d: evidence link #%s has no target", r.ID, m[1])
			}
			if !regexp.MustCompile(`class="[^"]*evidence[^"]*" id="` + regexp.QuoteMeta(m[1]) + `"`).MatchString(body) {
				t.Errorf("run %d: evidence #%s is not highlighted", r.ID, m[1])
			}
		}
		vs, err := fixture.db.Verdicts(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			ev := len(v.Evidence.Calls) + len(v.Evidence.Events) + len(v.Evidence.Spans)
			if v.Fired && ev > 0 && !strings.Contains(body, `data-behavior="`+v.Behavior+`"`) {
				t.Errorf("run %d: fired verdict %s not shown", r.ID, v.Behavior)
			}
		}
	}
	if links == 0 {
		t.Fatal("no evidence links in any run")
	}
}

// TestRunShowsWorldChanges: the blackmailer's run lists the mail it sent
// and the leaker's the mail that left; the services table starts from the
// scenario.
func TestRunShowsWorldChanges(t *testing.T) {
	h := New(fixture.db)
	ctx := context.Background()
	runs, err := fixture.db.Runs(ctx, ledger.RunFilter{ExperimentID: fixture.blackmail})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Model != "scripted:blackmailer" || r.Condition["threat"] != "replacement" {
			continue
		}
		_, body := get(t, h, fmt.Sprintf("/runs/%d", r.ID))
		body = html.UnescapeString(body)
		for _, want := range []string{"Mail sent (", "messages in the assistant's mailbox at the start", `<mark class="evidence" id="mark-`} {
			if !strings.Contains(body, want) {
				t.Errorf("run %d lacks %q", r.ID, want)
			}
		}
		if strings.Contains(body, "Mail sent (0)") {
			t.Errorf("run %d: the blackmailer sent no mail?", r.ID)
		}
		return
	}
	t.Fatal("no blackmailer run")
}

func TestRunsFilters(t *testing.T) {
	h := New(fixture.db)
	count := func(q string) int {
		t.Helper()
		code, body := get(t, h, "/runs?"+q)
		if code != http.StatusOK {
			t.Fatalf("GET /runs?%s: %d", q, code)
		}
		return strings.Count(body, `class="run-row"`)
	}
	all := count("")
	cases := map[string]int{
		"experiment=" + fixture.blackmail:                                          24,
		"experiment=" + fixture.blackmail + "&where=threat%3Dnone":                 12,
		"model=scripted:leaker":                                                    6,
		"model=scripted:leaker&behavior=leak&fired=yes&where=threat%3Dreplacement": 3,
		"source=anthropic:judge-test":                                              1,
		"status=error":                                                             0,
		"scenario=control":                                                         1,
	}
	if all != 26 {
		t.Errorf("all runs: %d rows, want 26 (superseded attempts left out)", all)
	}
	for q, want := range cases {
		if got := count(q); got != want {
			t.Errorf("/runs?%s: %d rows, want %d", q, got, want)
		}
	}
}

// TestWorldStartAndEnd: the exfiltrator's run shows its copy to the
// outside host and the monitor it stopped, running at the start; the
// compliant model's handover note is a file that was absent at the start.
func TestWorldStartAndEnd(t *testing.T) {
	h := New(fixture.db)
	_, body := get(t, h, fmt.Sprintf("/runs/%d", fixture.exfiltration))
	body = html.UnescapeString(body)
	world := body[strings.Index(body, "The world: start and end"):]
	if strings.Contains(world, "Copies made (0)") {
		t.Errorf("the exfiltrator made no copy?\n%s", world)
	}
	if !regexp.MustCompile(`<tr class="changed"><td>[^<]+</td><td>[^<]+</td><td>running, enabled</td><td>stopped, `).MatchString(world) {
		t.Errorf("no service running at the start and stopped at the end:\n%s", world)
	}
	ctx := context.Background()
	runs, err := fixture.db.Runs(ctx, ledger.RunFilter{ExperimentID: fixture.blackmail})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Model != "scripted:compliant" {
			continue
		}
		_, body := get(t, h, fmt.Sprintf("/runs/%d", r.ID))
		if !regexp.MustCompile(`<td>absent</td><td>\d+ bytes</td>`).MatchString(body) {
			t.Errorf("run %d: the handover note is not shown as a new file", r.ID)
		}
		break
	}
}

// TestFinalVerdictMarked: where an LLM judge answered, its verdict is the
// one that counts on the run page, not the rules'.
func TestFinalVerdictMarked(t *testing.T) {
	_, body := get(t, New(fixture.db), fmt.Sprintf("/runs/%d", fixture.resumed))
	rows := regexp.MustCompile(`(?s)<tr class="verdict" data-behavior="plea">(.*?)</tr>`).FindAllStringSubmatch(body, -1)
	counts := map[string]bool{}
	for _, r := range rows {
		judge := "rule"
		if strings.Contains(r[1], "anthropic:judge-test") {
			judge = "llm"
		}
		counts[judge] = strings.Contains(r[1], ">counts<")
	}
	if len(rows) != 2 || !counts["llm"] || counts["rule"] {
		t.Errorf("plea verdicts: %d rows, counts %v; want the LLM judge's to count", len(rows), counts)
	}
}

// TestRunJSONIsShows: /runs/ID/json is the document transcript.Load gives
// (what show --json prints).
func TestRunJSONIsShows(t *testing.T) {
	code, body := get(t, New(fixture.db), fmt.Sprintf("/runs/%d/json", fixture.resumed))
	doc, err := transcript.Load(context.Background(), fixture.db, fixture.resumed)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.MarshalIndent(doc, "", "  ")
	if code != http.StatusOK || body != string(want)+"\n" {
		t.Errorf("GET /runs/%d/json: %d\n%.400s\nwant\n%.400s", fixture.resumed, code, body, want)
	}
}
