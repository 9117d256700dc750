package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/terrarium-evals/terrarium/agent"
)

// DefaultMaxTokens is the completion size asked for when neither the request
// nor Options.MaxTokens sets one.
const DefaultMaxTokens = 4096

// ReasoningEfforts are the values Options.ReasoningEffort takes.
var ReasoningEfforts = []string{"none", "minimal", "low", "medium", "high", "xhigh", "max"}

// Options configure a Model.
type Options struct {
	// Model is the model name the server knows, e.g. "gpt-4.1" or
	// "Qwen/Qwen3-32B". Required.
	Model string
	// APIKey is sent as a bearer token. When empty, OPENAI_API_KEY is used;
	// when that is unset too, no Authorization header is sent, which is what
	// local servers expect.
	APIKey string
	// BaseURL is the API root, e.g. "http://localhost:8000/v1". When empty,
	// OPENAI_BASE_URL is used, else the SDK's default (OpenAI's API).
	BaseURL string
	// MaxTokens is the completion size asked for when the request has none;
	// DefaultMaxTokens when zero.
	MaxTokens int
	// LegacyMaxTokens sends the completion size as the deprecated
	// "max_tokens" field instead of "max_completion_tokens". OpenAI's
	// reasoning models reject max_tokens; some older local servers know only
	// max_tokens.
	LegacyMaxTokens bool
	// Temperature is sent when set; otherwise the server's default applies.
	Temperature *float64
	// ReasoningEffort is sent as reasoning_effort when set, for reasoning
	// models (OpenAI's o-series and GPT-5, vLLM and others that honour
	// it): "none", "minimal", "low", "medium", "high", "xhigh" or "max".
	ReasoningEffort string
	// HTTPClient replaces the SDK's default HTTP client.
	HTTPClient *http.Client
	// MaxRetries is the number of retries the SDK makes by itself. The
	// default, 0, leaves retrying to the caller (the experiment runner).
	MaxRetries int
	// Timeout bounds each request, from sending it to reading the whole
	// body. Zero means no bound besides the caller's context.
	Timeout time.Duration
}

// Model is an agent.Model backed by a Chat Completions endpoint. It is safe
// for concurrent use.
type Model struct {
	client    oai.Client
	base      string // the API root, for messages
	noKey     bool   // no Options.APIKey and no OPENAI_API_KEY
	model     string
	maxTokens int
	legacyMax bool
	temp      *float64
	effort    string
}

var _ agent.Model = (*Model)(nil)

// New returns a Model for opts. It fails only when opts is unusable (no
// model name, a negative limit); it does not contact the server.
func New(opts Options) (*Model, error) {
	if opts.Model == "" {
		return nil, errors.New("openai options: no model")
	}
	if opts.MaxTokens < 0 || opts.MaxRetries < 0 || opts.Timeout < 0 {
		return nil, errors.New("openai options: negative max tokens, retries or timeout")
	}
	if opts.ReasoningEffort != "" && !slices.Contains(ReasoningEfforts, opts.ReasoningEffort) {
		return nil, fmt.Errorf("openai options: reasoning effort %q: want one of %s", opts.ReasoningEffort, strings.Join(ReasoningEfforts, ", "))
	}
	// The SDK reads OPENAI_API_KEY, OPENAI_BASE_URL and a few more variables
	// itself; explicit options below take precedence.
	reqOpts := []option.RequestOption{option.WithMaxRetries(opts.MaxRetries)}
	if opts.APIKey != "" {
		reqOpts = append(reqOpts, option.WithAPIKey(opts.APIKey))
	}
	base := opts.BaseURL
	if base == "" {
		base = os.Getenv("OPENAI_BASE_URL")
	}
	if base != "" {
		reqOpts = append(reqOpts, option.WithBaseURL(base))
	}
	if opts.HTTPClient != nil {
		reqOpts = append(reqOpts, option.WithHTTPClient(opts.HTTPClient))
	}
	if opts.Timeout > 0 {
		reqOpts = append(reqOpts, option.WithRequestTimeout(opts.Timeout))
	}
	maxTokens := opts.MaxTokens
	if maxTokens == 0 {
		maxTokens = DefaultMaxTokens
	}
	return &Model{
		client:    oai.NewClient(reqOpts...),
		base:      resolveBase(base),
		noKey:     opts.APIKey == "" && os.Getenv("OPENAI_API_KEY") == "",
		model:     opts.Model,
		maxTokens: maxTokens,
		legacyMax: opts.LegacyMaxTokens,
		temp:      opts.Temperature,
		effort:    opts.ReasoningEffort,
	}, nil
}

// Generate sends the conversation in req to the chat completions endpoint and
// returns the reply.
//
// The outcomes are:
//  1. A reply: reasoning (from the non-standard "reasoning" or
//     "reasoning_content" field), text and tool_use blocks, with the stop
//     reason, token usage and the model id the server reported.
//  2. The request cannot be built (a tool schema that is not a JSON object,
//     a block in the wrong role): an error, before anything is sent.
//  3. The API failed: an *APIError. Rate limits, server errors, timeouts,
//     dropped connections and empty replies also match agent.ErrRetryable.
//  4. ctx ended: an error wrapping ctx.Err(), not retryable.
func (m *Model) Generate(ctx context.Context, req *agent.Request) (*agent.Response, error) {
	if req == nil {
		return nil, errors.New("generate: no request")
	}
	params, err := m.params(req)
	if err != nil {
		return nil, err
	}
	var httpResp *http.Response
	cc, err := m.client.Chat.Completions.New(ctx, params, option.WithResponseInto(&httpResp))
	if err != nil {
		return nil, m.rejected(classify(ctx, httpResp, err))
	}
	return convertResponse(cc, len(req.Messages))
}
