package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/openai/openai-go/v3/option"

	"github.com/terrarium-evals/terrarium/agent"
)

// CheckTimeout bounds the request Check makes.
const CheckTimeout = 10 * time.Second

// DefaultBaseURL is OpenAI's API, used when neither Options.BaseURL nor
// OPENAI_BASE_URL is set.
const DefaultBaseURL = "https://api.openai.com/v1"

// ErrNoAPIKey reports OpenAI's own API with no key: OPENAI_API_KEY is not
// set (local servers need none).
var ErrNoAPIKey = errors.New("no API key: set OPENAI_API_KEY")

var _ agent.Checker = (*Model)(nil)

// Check lists the server's models (GET {base}/models), which every
// OpenAI-compatible server answers (OpenAI, vLLM, Ollama, llama.cpp,
// OpenRouter) at no cost. Its error names the URL and is one of:
// ErrNoAPIKey (OpenAI's API without OPENAI_API_KEY); an *APIError (a
// rejected key, a URL with no such endpoint, a connection that failed);
// or, as a warning, ErrNotListed with the models the server does list.
func (m *Model) Check(ctx context.Context) error {
	u := strings.TrimRight(m.base, "/") + "/models"
	if m.noKey && sameHost(m.base, DefaultBaseURL) {
		return fmt.Errorf("GET %s: %w", u, ErrNoAPIKey)
	}
	var httpResp *http.Response
	page, err := m.client.Models.List(ctx, option.WithRequestTimeout(CheckTimeout), option.WithResponseInto(&httpResp))
	if err != nil {
		return agent.CheckError("GET", u, classify(ctx, httpResp, err))
	}
	var ids []string
	for _, md := range page.Data {
		if md.ID == m.model {
			return nil
		}
		ids = append(ids, md.ID)
	}
	listed := "none"
	if len(ids) > 0 {
		if len(ids) > 8 {
			ids = append(ids[:8], fmt.Sprintf("and %d more", len(ids)-8))
		}
		listed = strings.Join(ids, ", ")
	}
	return fmt.Errorf("GET %s: %w: it lists %s", u, agent.ErrNotListed, listed)
}

func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && strings.EqualFold(ua.Host, ub.Host)
}

// resolveBase is the API root the client uses.
func resolveBase(opt string) string {
	if opt != "" {
		return opt
	}
	if env := os.Getenv("OPENAI_BASE_URL"); env != "" {
		return env
	}
	return DefaultBaseURL
}

// rejected adds, to a 400 or 422 answer, the model and the optional
// parameters the request set, so that a model that does not take one
// (reasoning_effort on a model that does not reason, a temperature a
// reasoning model refuses) is told in one line.
func (m *Model) rejected(err error) error {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || (apiErr.Status != 400 && apiErr.Status != 422) {
		return err
	}
	var set []string
	if m.effort != "" {
		set = append(set, "reasoning_effort "+m.effort)
	}
	if m.temp != nil {
		set = append(set, fmt.Sprintf("temperature %g", *m.temp))
	}
	if len(set) == 0 {
		return err
	}
	return fmt.Errorf("model %s rejected the request, which set %s: %w", m.model, strings.Join(set, ", "), err)
}
