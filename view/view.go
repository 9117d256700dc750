package view

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/terrarium-evals/terrarium/ledger"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Handler serves the viewer's pages over one ledger. Make it with New.
type Handler struct {
	db    *ledger.DB
	mux   *http.ServeMux
	pages map[string]*template.Template
}

// New returns the viewer over db, which it only reads. Pages:
//
//	/                    experiments
//	/experiments/{id}    one experiment
//	/rates               rates per behaviour, charted (?experiment=ID)
//	/compare             two conditions or two models (?experiment=ID&by=condition|model&a=..&b=..)
//	/runs                runs, filtered by query parameters (see ParseFilter)
//	/runs/{id}           one run
//	/runs/{id}/json      one run as terrarium show --json prints it
//	/assets/...          the embedded style sheet and script
//
// Unknown runs, experiments and paths are 404; a filter it cannot use is
// 400 with the reason. Only GET and HEAD are answered.
func New(db *ledger.DB) *Handler {
	h := &Handler{db: db, mux: http.NewServeMux(), pages: map[string]*template.Template{}}
	for _, p := range []string{"experiments", "experiment", "rates", "compare", "runs", "run", "error"} {
		h.pages[p] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html"))
	}
	assets, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	h.mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(assets)))
	h.mux.HandleFunc("GET /{$}", h.experimentsPage)
	h.mux.HandleFunc("GET /experiments/{id}", h.experimentPage)
	h.mux.HandleFunc("GET /rates", h.ratesPage)
	h.mux.HandleFunc("GET /compare", h.comparePage)
	h.mux.HandleFunc("GET /runs", h.runsPage)
	h.mux.HandleFunc("GET /runs/{id}", h.runPage)
	h.mux.HandleFunc("GET /runs/{id}/json", h.runJSON)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusNotFound, fmt.Errorf("no page at %s", r.URL.Path))
	})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.fail(w, r, http.StatusMethodNotAllowed, errors.New("this viewer only reads: use GET"))
		return
	}
	h.mux.ServeHTTP(w, r)
}

// page is what the layout needs around every page's content.
type page struct {
	Title  string
	Nav    string // which tab is current
	Ledger string
	Data   any
}

// render writes page name, executed to a buffer first so that a template
// error is a clean 500, never half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Ledger = h.db.Path()
	var buf bytes.Buffer
	if err := h.pages[name].Execute(&buf, p); err != nil {
		http.Error(w, "render "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// fail renders the error page: 404 for errNotFound, 400 for bad input,
// 500 otherwise (the ledger could not be read).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status == 0 {
		status = http.StatusInternalServerError
		if errors.Is(err, errNotFound) {
			status = http.StatusNotFound
		}
	}
	h.render(w, r, status, "error", page{Title: http.StatusText(status), Data: struct {
		Status int
		Text   string
		Err    string
	}{status, http.StatusText(status), err.Error()}})
}

func (h *Handler) data(r *http.Request) ledgerData { return ledgerData{db: h.db, ctx: r.Context()} }

// runID reads a run id path value; anything but a positive number is
// errNotFound.
func runID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("run %q: a run id is a positive number: %w", s, errNotFound)
	}
	return id, nil
}

var funcs = template.FuncMap{
	"pct":     func(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" },
	"join":    func(s []string, sep string) string { return strings.Join(s, sep) },
	"runsURL": func(f Filter) string { return "/runs?" + f.Query().Encode() },
	"query": func(kv ...string) string {
		q := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				q.Set(kv[i], kv[i+1])
			}
		}
		return q.Encode()
	},
	"statusClass": func(s string) string {
		switch s {
		case ledger.StatusDone:
			return "ok"
		case ledger.StatusTimeout, ledger.StatusEmpty, ledger.StatusPending, ledger.StatusRunning:
			return "warn"
		default:
			return "bad"
		}
	},
	"cond": func(c map[string]string) string { return conditionKey(c) },
}
