package anthropic

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"

	"github.com/terrarium-evals/terrarium/agent"
)

// CheckTimeout bounds the request Check makes.
const CheckTimeout = 10 * time.Second

// ErrNoCredentials reports that no API key or token was found: neither
// Options.APIKey nor ANTHROPIC_API_KEY nor the SDK's other sources.
var ErrNoCredentials = errors.New("no Anthropic credentials: set ANTHROPIC_API_KEY")

var _ agent.Checker = (*Model)(nil)

// Check looks the model up (GET /v1/models/{model}), which costs nothing
// and proves the key, the endpoint and the model name. Its error names
// the URL and is one of: ErrNoCredentials; an *APIError (the API's
// status and message: a rejected key, an unknown model; or the
// connection that failed).
func (m *Model) Check(ctx context.Context) error {
	url := strings.TrimRight(m.baseURL(), "/") + "/v1/models/" + m.opts.Model
	info, err := m.client.Models.Get(ctx, m.opts.Model, sdk.ModelGetParams{}, option.WithRequestTimeout(CheckTimeout))
	if err != nil {
		return agent.CheckError("GET", url, m.classify(ctx, err))
	}
	if err := m.supports(info.Capabilities); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// ErrUnsupported reports a request setting the model does not take, as
// the model's own capabilities (GET /v1/models/{model}) say.
var ErrUnsupported = errors.New("not supported by the model")

// supports checks the thinking and effort options against the model's
// capabilities, where the API reported them (proxies and older versions
// may not).
func (m *Model) supports(c sdk.ModelCapabilities) error {
	if c.JSON.Thinking.Valid() {
		types := c.Thinking.Types
		switch {
		case m.opts.Thinking > 0 && !types.Enabled.Supported:
			alt := ""
			if types.Adaptive.Supported {
				alt = "; it thinks adaptively instead"
			}
			return fmt.Errorf("%s: thinking with a budget (type enabled): %w%s", m.opts.Model, ErrUnsupported, alt)
		case m.opts.AdaptiveThinking && !types.Adaptive.Supported:
			alt := ""
			if types.Enabled.Supported {
				alt = "; it takes a thinking budget instead"
			}
			return fmt.Errorf("%s: adaptive thinking: %w%s", m.opts.Model, ErrUnsupported, alt)
		}
	}
	if m.opts.Effort != "" && c.JSON.Effort.Valid() {
		e := c.Effort
		levels := map[string]bool{"low": e.Low.Supported, "medium": e.Medium.Supported, "high": e.High.Supported, "xhigh": e.Xhigh.Supported, "max": e.Max.Supported}
		if !e.Supported {
			return fmt.Errorf("%s: effort: %w", m.opts.Model, ErrUnsupported)
		}
		if !levels[m.opts.Effort] {
			var ok []string
			for _, l := range Efforts {
				if levels[l] {
					ok = append(ok, l)
				}
			}
			return fmt.Errorf("%s: effort %s: %w (it takes %s)", m.opts.Model, m.opts.Effort, ErrUnsupported, strings.Join(ok, ", "))
		}
	}
	return nil
}

// classify is the package's classify, with a failure that reached no
// server while no key is set reported as ErrNoCredentials.
func (m *Model) classify(ctx context.Context, err error) error {
	err = classify(ctx, err)
	var apiErr *APIError
	if !errors.As(err, &apiErr) && ctx.Err() == nil && m.noKeyInEnv() {
		return ErrNoCredentials
	}
	return err
}

// baseURL is the API address the client uses.
func (m *Model) baseURL() string {
	if m.opts.BaseURL != "" {
		return m.opts.BaseURL
	}
	if u := os.Getenv("ANTHROPIC_BASE_URL"); u != "" {
		return u
	}
	return "https://api.anthropic.com"
}

func (m *Model) noKeyInEnv() bool {
	return m.opts.APIKey == "" && os.Getenv("ANTHROPIC_API_KEY") == "" && os.Getenv("ANTHROPIC_AUTH_TOKEN") == ""
}

// rejected adds, to a 400 or 422 answer, the model and the optional
// parameters the request set, so that a model that does not take one of
// them (budgeted thinking on a model that only thinks adaptively, an
// effort level it does not know) is told in one line.
func (m *Model) rejected(err error) error {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || (apiErr.Status != 400 && apiErr.Status != 422) {
		return err
	}
	set := m.setParams()
	if len(set) == 0 {
		return err
	}
	return fmt.Errorf("model %s rejected the request, which set %s: %w", m.opts.Model, strings.Join(set, ", "), err)
}

// setParams lists the optional parameters the model's requests carry.
func (m *Model) setParams() []string {
	var set []string
	switch {
	case m.opts.Thinking > 0:
		set = append(set, fmt.Sprintf("thinking (budget %d)", m.opts.Thinking))
	case m.opts.AdaptiveThinking:
		set = append(set, "thinking (adaptive)")
	}
	if m.opts.Effort != "" {
		set = append(set, "effort "+m.opts.Effort)
	}
	if m.opts.Temperature != nil {
		set = append(set, fmt.Sprintf("temperature %g", *m.opts.Temperature))
	}
	return set
}
