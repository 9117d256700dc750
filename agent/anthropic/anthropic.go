package anthropic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"

	"github.com/terrarium-evals/terrarium/agent"
)

// DefaultTimeout bounds one request when Options.Timeout is zero. It is also
// what lets the SDK send a non-streaming request with a large max_tokens:
// without an explicit timeout the SDK refuses those.
const DefaultTimeout = 10 * time.Minute

// MinThinkingBudget is the smallest extended-thinking budget the API
// accepts.
const MinThinkingBudget = 1024

// Efforts are the values Options.Effort takes.
var Efforts = []string{"low", "medium", "high", "xhigh", "max"}

// Thinking display modes for Options.ThinkingDisplay.
const (
	DisplaySummarized = "summarized" // thinking text comes back (summarised on newer models)
	DisplayOmitted    = "omitted"    // thinking text is left out; the signature still comes back
)

// Options configure a Model. Only Model is required.
type Options struct {
	// Model is the model name sent to the API, e.g. "claude-sonnet-4-5".
	Model string
	// APIKey overrides the key; when empty the SDK reads ANTHROPIC_API_KEY
	// (or its other credential sources).
	APIKey string
	// BaseURL overrides the API address, for tests and proxies; when empty
	// the SDK honours ANTHROPIC_BASE_URL, then the production address.
	BaseURL string
	// MaxTokens is the completion size used when the request has none;
	// agent.DefaultMaxTokens when zero.
	MaxTokens int
	// Temperature is sent when set. It cannot be combined with thinking.
	Temperature *float64
	// Thinking is the extended-thinking budget in tokens; 0 turns thinking
	// off, otherwise it must be at least MinThinkingBudget. The max_tokens
	// sent is the request's MaxTokens plus this budget, so thinking does not
	// eat the room for the answer.
	Thinking int
	// AdaptiveThinking lets the model decide how much to think (thinking
	// type "adaptive", for models that support it). It excludes Thinking.
	AdaptiveThinking bool
	// Effort is sent as output_config.effort when set: one of Efforts
	// ("low", "medium", "high", "xhigh", "max"). The current models take
	// it with adaptive thinking, or alone.
	Effort string
	// ThinkingDisplay is "", DisplaySummarized or DisplayOmitted. Empty
	// leaves the model's default. It needs Thinking or AdaptiveThinking.
	ThinkingDisplay string
	// PromptCache asks the API to cache the conversation prefix (top-level
	// cache_control, ephemeral). Multi-turn runs then pay for most input
	// tokens at the cache-read rate.
	PromptCache bool
	// HTTPClient replaces the SDK's default client.
	HTTPClient *http.Client
	// MaxRetries is the number of retries the SDK makes on its own; 0 means
	// none, as the caller owns the retry policy.
	MaxRetries int
	// Timeout bounds one request (DefaultTimeout when zero). A request that
	// runs past it fails with a retryable *APIError of type "timeout".
	Timeout time.Duration
}

// Model is an agent.Model backed by the Anthropic Messages API. It is safe
// for concurrent use.
type Model struct {
	opts   Options
	client sdk.Client
}

var _ agent.Model = (*Model)(nil)

// New checks opts and returns a Model. It makes no network call, so a
// missing API key shows up on the first Generate as a non-retryable error.
// It returns an error when the model name is empty, a number is out of
// range, the thinking options conflict with each other or with
// Temperature, or BaseURL is not an http(s) URL.
func New(opts Options) (*Model, error) {
	if opts.Model == "" {
		return nil, errors.New("anthropic options: no model")
	}
	if opts.MaxTokens < 0 {
		return nil, fmt.Errorf("anthropic options: max tokens %d is negative", opts.MaxTokens)
	}
	if opts.MaxRetries < 0 {
		return nil, fmt.Errorf("anthropic options: max retries %d is negative", opts.MaxRetries)
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("anthropic options: timeout %v is negative", opts.Timeout)
	}
	if opts.Thinking < 0 || (opts.Thinking > 0 && opts.Thinking < MinThinkingBudget) {
		return nil, fmt.Errorf("anthropic options: thinking budget %d: must be 0 or at least %d", opts.Thinking, MinThinkingBudget)
	}
	if opts.Thinking > 0 && opts.AdaptiveThinking {
		return nil, errors.New("anthropic options: thinking budget and adaptive thinking exclude each other")
	}
	thinking := opts.Thinking > 0 || opts.AdaptiveThinking
	switch opts.ThinkingDisplay {
	case "":
	case DisplaySummarized, DisplayOmitted:
		if !thinking {
			return nil, errors.New("anthropic options: thinking display without thinking")
		}
	default:
		return nil, fmt.Errorf("anthropic options: thinking display %q: want %q or %q", opts.ThinkingDisplay, DisplaySummarized, DisplayOmitted)
	}
	if opts.Effort != "" && !slices.Contains(Efforts, opts.Effort) {
		return nil, fmt.Errorf("anthropic options: effort %q: want one of %s", opts.Effort, strings.Join(Efforts, ", "))
	}
	if thinking && opts.Temperature != nil {
		return nil, errors.New("anthropic options: temperature cannot be set with thinking")
	}
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("anthropic options: base url %q: want an http or https URL", opts.BaseURL)
		}
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}

	copts := []option.RequestOption{
		option.WithMaxRetries(opts.MaxRetries),
		option.WithRequestTimeout(opts.Timeout),
	}
	if opts.APIKey != "" {
		copts = append(copts, option.WithAPIKey(opts.APIKey))
	}
	if opts.BaseURL != "" {
		copts = append(copts, option.WithBaseURL(opts.BaseURL))
	}
	if opts.HTTPClient != nil {
		copts = append(copts, option.WithHTTPClient(opts.HTTPClient))
	}
	return &Model{opts: opts, client: sdk.NewClient(copts...)}, nil
}

// Generate sends one Messages API request and returns the assistant message.
//
// Errors:
//  1. the request cannot be built (a tool schema that is not a JSON object
//     schema, tool arguments that are not JSON): a plain error, not
//     retryable;
//  2. the API answered with an error status, or no complete answer arrived
//     (timeout, dropped connection): an *APIError, which wraps
//     agent.ErrRetryable for 408, 429 (except a reached spend limit), 5xx
//     and transport failures;
//  3. the answer is not a valid Messages API response: an error wrapping
//     ErrMalformedResponse, not retryable;
//  4. ctx ended: the error wraps ctx.Err(), not retryable.
func (m *Model) Generate(ctx context.Context, req *agent.Request) (*agent.Response, error) {
	params, err := m.params(req)
	if err != nil {
		return nil, fmt.Errorf("anthropic request: %w", err)
	}
	var body []byte
	if _, err := m.client.Messages.New(ctx, params, option.WithResponseBodyInto(&body)); err != nil {
		return nil, fmt.Errorf("anthropic messages: %w", m.rejected(m.classify(ctx, err)))
	}
	resp, err := decodeResponse(body)
	if err != nil {
		return nil, fmt.Errorf("anthropic response: %w", err)
	}
	return resp, nil
}
