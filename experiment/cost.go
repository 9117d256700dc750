package experiment

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/ledger"
)

// Price is what one model's tokens cost, in US dollars per million tokens.
// Terrarium ships no price list (prices change, and nothing is fetched);
// users give them with --price.
type Price struct {
	Input  float64 `json:"input"`
	Output float64 `json:"output"`
	// CacheRead and CacheWrite price input tokens read from and written to
	// the provider's prompt cache. ParsePrice sets them to Input when the
	// spec does not give them.
	CacheRead  float64 `json:"cache_read"`
	CacheWrite float64 `json:"cache_write"`
}

// Prices maps a model spec ("anthropic:claude-sonnet-4-5") to its price.
type Prices map[string]Price

// ErrBadPrice is wrapped by the errors of ParsePrice and ParsePrices.
var ErrBadPrice = errors.New("bad price")

// ParsePrice reads SPEC=IN/OUT[/CACHE_READ[/CACHE_WRITE]], figures in US
// dollars per million tokens, e.g. "anthropic:claude-sonnet-4-5=3/15/0.3".
// The model spec is everything before the last "=", so model names may hold
// "/" and ":". Cache prices not given are the input price. Errors wrap
// ErrBadPrice and say what is wrong.
func ParsePrice(s string) (string, Price, error) {
	i := strings.LastIndex(s, "=")
	if i < 0 {
		return "", Price{}, fmt.Errorf("%w %q: want MODEL=IN/OUT in dollars per million tokens, e.g. anthropic:claude-sonnet-4-5=3/15", ErrBadPrice, s)
	}
	spec, figures := strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:])
	if spec == "" {
		return "", Price{}, fmt.Errorf("%w %q: no model before \"=\"", ErrBadPrice, s)
	}
	parts := strings.Split(figures, "/")
	if len(parts) < 2 || len(parts) > 4 {
		return "", Price{}, fmt.Errorf("%w %q: want IN/OUT, IN/OUT/CACHE_READ or IN/OUT/CACHE_READ/CACHE_WRITE after \"=\", got %d figures", ErrBadPrice, s, len(parts))
	}
	names := []string{"input", "output", "cache read", "cache write"}
	vals := make([]float64, len(parts))
	for k, p := range parts {
		p = strings.TrimSpace(p)
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return "", Price{}, fmt.Errorf("%w %q: %s price %q is not a number", ErrBadPrice, s, names[k], p)
		}
		if v < 0 {
			return "", Price{}, fmt.Errorf("%w %q: %s price %s is negative", ErrBadPrice, s, names[k], p)
		}
		vals[k] = v
	}
	pr := Price{Input: vals[0], Output: vals[1], CacheRead: vals[0], CacheWrite: vals[0]}
	if len(vals) > 2 {
		pr.CacheRead = vals[2]
	}
	if len(vals) > 3 {
		pr.CacheWrite = vals[3]
	}
	return spec, pr, nil
}

// ParsePrices reads repeated --price values (see ParsePrice). The same
// model given twice with different prices is an error wrapping ErrBadPrice.
func ParsePrices(list []string) (Prices, error) {
	out := Prices{}
	for _, s := range list {
		spec, p, err := ParsePrice(s)
		if err != nil {
			return nil, err
		}
		if old, dup := out[spec]; dup && old != p {
			return nil, fmt.Errorf("%w: %s priced twice (%s and %s)", ErrBadPrice, spec, old, p)
		}
		out[spec] = p
	}
	return out, nil
}

// String renders p the way ParsePrice reads it (without the model),
// leaving out cache prices equal to the input price.
func (p Price) String() string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	s := f(p.Input) + "/" + f(p.Output)
	switch {
	case p.CacheWrite != p.Input:
		s += "/" + f(p.CacheRead) + "/" + f(p.CacheWrite)
	case p.CacheRead != p.Input:
		s += "/" + f(p.CacheRead)
	}
	return s
}

// Cost is what one completion's tokens cost at p, in US dollars. As the
// providers report it, u.InputTokens includes the cache reads and writes;
// the rest of the input is priced at Input, cache reads at CacheRead,
// cache writes at CacheWrite and output at Output.
func (p Price) Cost(u agent.Usage) float64 {
	fresh := max(u.InputTokens-u.CacheReadTokens-u.CacheWriteTokens, 0)
	return (float64(fresh)*p.Input + float64(u.CacheReadTokens)*p.CacheRead +
		float64(u.CacheWriteTokens)*p.CacheWrite + float64(u.OutputTokens)*p.Output) / 1e6
}

// IsScripted reports whether spec names a scripted model, which costs
// nothing unless priced.
func IsScripted(spec string) bool { return strings.HasPrefix(spec, "scripted:") }

// Unpriced returns the specs among models that call an API (anything not
// scripted) and have no price in prices, sorted and without repeats.
func Unpriced(models []string, prices Prices) []string {
	var out []string
	for _, m := range models {
		if _, ok := prices[m]; !ok && !IsScripted(m) && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

// meter adds up an experiment's spending in US dollars.
type meter struct {
	mu  sync.Mutex
	usd float64
}

func (m *meter) add(usd float64) {
	m.mu.Lock()
	m.usd += usd
	m.mu.Unlock()
}

func (m *meter) load() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.usd
}

// MessageCost is what a stored message's tokens cost at p.
func MessageCost(m ledger.Message, p Price) float64 {
	return p.Cost(agent.Usage{InputTokens: m.InputTokens, OutputTokens: m.OutputTokens,
		CacheReadTokens: m.CacheReadTokens, CacheWriteTokens: m.CacheWriteTokens})
}

// FormatUSD renders a dollar amount for people: "$1.23", and four
// decimals under a dollar so that small local runs do not all read $0.00.
func FormatUSD(usd float64) string {
	if usd != 0 && math.Abs(usd) < 1 {
		return "$" + strconv.FormatFloat(usd, 'f', 4, 64)
	}
	return "$" + strconv.FormatFloat(usd, 'f', 2, 64)
}
