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
	_, err := m.client.Models.Get(ctx, m.opts.Model, sdk.ModelGetParams{}, option.WithRequestTimeout(CheckTimeout))
	if err == nil {
		return nil
	}
	return fmt.Errorf("GET %s: %w", url, m.classify(ctx, err))
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
