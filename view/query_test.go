package view

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	cases := []struct {
		q    string
		want Filter
		err  string
	}{
		{"", Filter{Where: map[string]string{}}, ""},
		{"model=scripted:pleader&where=threat%3Dnone&where=+options+%3D+open+&where=",
			Filter{Model: "scripted:pleader", Where: map[string]string{"threat": "none", "options": "open"}}, ""},
		{"behavior=plea&fired=yes&counted=1&source=rule",
			Filter{Behavior: "plea", Fired: "yes", Counted: true, Source: "rule", Where: map[string]string{}}, ""},
		{"status=done&status=error", Filter{}, "given 2 times"},
		{"status=finished", Filter{}, "want one of"},
		{"fired=maybe&behavior=plea", Filter{}, "yes or no"},
		{"fired=yes", Filter{}, "needs a behavior"},
		{"counted=2&behavior=plea", Filter{}, "want 1 or 0"},
		{"superseded=yes", Filter{}, "want 1 or 0"},
		{"superseded=1", Filter{Superseded: true, Where: map[string]string{}}, ""},
		{"where==x", Filter{}, "var=value"},
		{"where=a%3Dx&where=a%3Dy", Filter{}, "twice"},
		{"model=" + strings.Repeat("m", 600), Filter{}, "at most"},
		{strings.Repeat("where=a%3Db&", 70), Filter{}, "at most 64"},
	}
	for _, c := range cases {
		q, err := url.ParseQuery(c.q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseFilter(q)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseFilter(%.60s): %v, want an error with %q", c.q, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseFilter(%s) = %+v, %v; want %+v", c.q, got, err, c.want)
		}
	}
}

// FuzzParseFilter: any query either parses into a filter that survives a
// round trip through Query, or is refused with an error; nothing panics,
// and the runs page answers 200 or 400 for it, never 500.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"", "behavior=plea&counted=1", "where=a%3Db&where=c%3Dd", "status=done",
		"fired=no&behavior=leak&source=rule", "where=%3D", "model=%ff%fe", "where=a=b=c", "experiment=%00"} {
		f.Add(s)
	}
	h := New(fixture.db)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		fl, err := ParseFilter(q)
		if err == nil {
			again, err := ParseFilter(fl.Query())
			if err != nil || !reflect.DeepEqual(again, fl) {
				t.Fatalf("round trip of %q: %+v, %v; want %+v", raw, again, err, fl)
			}
		}
		code, _ := get(t, h, "/runs?"+q.Encode())
		if code != http.StatusOK && code != http.StatusBadRequest && code != http.StatusNotFound {
			t.Fatalf("/runs?%s: %d", q.Encode(), code)
		}
	})
}
