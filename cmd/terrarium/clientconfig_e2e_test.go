package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"github.com/terrarium-evals/terrarium/ledger"
)

// clientConfig is one client's way of reaching serve, as a document gives
// it: a command line to start (stdio), or a URL with headers (HTTP).
type clientConfig struct {
	where   string   // the document and section it comes from
	name    string   // the name the client gives the server
	argv    []string // stdio: the server's command line
	env     map[string]string
	url     string // HTTP
	headers map[string]string
}

// docBlock is a fenced code block of a Markdown document.
type docBlock struct {
	section, lang, text string
}

// docBlocks returns the fenced code blocks of a Markdown file, each with
// the "## " section it is under.
func docBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []docBlock
	section := ""
	var cur *docBlock
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		case strings.HasPrefix(strings.TrimSpace(line), "```"):
			cur = &docBlock{section: section, lang: strings.TrimPrefix(strings.TrimSpace(line), "```")}
		case strings.HasPrefix(line, "## "):
			section = strings.TrimPrefix(line, "## ")
		}
	}
	return out
}

// shellCommands parses a shell block as bash does and returns each simple
// command's words, expanded in env.
func shellCommands(t *testing.T, text string, env map[string]string) [][]string {
	t.Helper()
	f, err := syntax.NewParser().Parse(strings.NewReader(text), "")
	if err != nil {
		t.Fatalf("shell block does not parse: %v\n%s", err, text)
	}
	var pairs []string
	for k, v := range env {
		pairs = append(pairs, k+"="+v)
	}
	cfg := &expand.Config{Env: expand.ListEnviron(pairs...)}
	var out [][]string
	syntax.Walk(f, func(n syntax.Node) bool {
		ce, ok := n.(*syntax.CallExpr)
		if !ok || len(ce.Args) == 0 {
			return true
		}
		words, err := expand.Fields(cfg, ce.Args...)
		if err == nil {
			out = append(out, words)
		}
		return false
	})
	return out
}

// claudeMCPAdd reads "claude mcp add [options] NAME (-- COMMAND... | URL)".
func claudeMCPAdd(t *testing.T, where string, words []string) clientConfig {
	t.Helper()
	c := clientConfig{where: where, headers: map[string]string{}, env: map[string]string{}}
	var positional []string
	for i := 3; i < len(words); i++ {
		switch w := words[i]; w {
		case "--":
			c.argv = words[i+1:]
			i = len(words)
		case "--transport", "-t", "--scope", "-s":
			i++
		case "--header", "-H":
			i++
			k, v, _ := strings.Cut(words[i], ":")
			c.headers[k] = strings.TrimSpace(v)
		case "--env", "-e":
			i++
			k, v, _ := strings.Cut(words[i], "=")
			c.env[k] = v
		default:
			positional = append(positional, w)
		}
	}
	if len(positional) > 0 {
		c.name = positional[0]
	}
	if c.argv == nil {
		if len(positional) != 2 {
			t.Fatalf("%s: claude mcp add %v: want a name and a URL", where, words[3:])
		}
		c.url = positional[1]
	}
	return c
}

// docConfigs returns every client configuration a document shows, and the
// serve command line each section starts (for its HTTP clients), by
// section.
func docConfigs(t *testing.T, path string, env map[string]string) (configs []clientConfig, serveLines map[string][]string) {
	t.Helper()
	serveLines = map[string][]string{}
	for _, b := range docBlocks(t, path) {
		where := filepath.Base(path) + " § " + b.section
		switch b.lang {
		case "sh":
			for _, words := range shellCommands(t, b.text, env) {
				switch {
				case len(words) > 3 && words[0] == "claude" && words[1] == "mcp" && words[2] == "add":
					configs = append(configs, claudeMCPAdd(t, where, words))
				case len(words) > 1 && words[0] == "terrarium" && words[1] == "serve" && contains(words, "--listen"):
					if _, ok := serveLines[b.section]; !ok {
						serveLines[b.section] = words
					}
				}
			}
		case "json":
			var doc struct {
				MCPServers map[string]struct {
					Command string            `json:"command"`
					Args    []string          `json:"args"`
					Env     map[string]string `json:"env"`
					Type    string            `json:"type"`
					URL     string            `json:"url"`
					Headers map[string]string `json:"headers"`
				} `json:"mcpServers"`
			}
			if err := json.Unmarshal([]byte(b.text), &doc); err != nil {
				t.Fatalf("%s: JSON block does not parse: %v\n%s", where, err, b.text)
			}
			for name, s := range doc.MCPServers {
				c := clientConfig{where: where, name: name, env: s.Env, url: s.URL, headers: s.Headers}
				if s.Command != "" {
					c.argv = append([]string{s.Command}, s.Args...)
				}
				configs = append(configs, c)
			}
		case "toml":
			var doc struct {
				MCPServers map[string]struct {
					Command           string            `toml:"command"`
					Args              []string          `toml:"args"`
					Env               map[string]string `toml:"env"`
					URL               string            `toml:"url"`
					BearerTokenEnvVar string            `toml:"bearer_token_env_var"`
				} `toml:"mcp_servers"`
			}
			md, err := toml.Decode(b.text, &doc)
			if err != nil {
				t.Fatalf("%s: TOML block does not parse: %v\n%s", where, err, b.text)
			}
			if und := md.Undecoded(); len(und) > 0 {
				t.Errorf("%s: keys the test does not know: %v", where, und)
			}
			for name, s := range doc.MCPServers {
				c := clientConfig{where: where, name: name, env: s.Env, url: s.URL, headers: map[string]string{}}
				if s.Command != "" {
					c.argv = append([]string{s.Command}, s.Args...)
				}
				if s.BearerTokenEnvVar != "" {
					c.headers["Authorization"] = "Bearer " + env[s.BearerTokenEnvVar]
				}
				configs = append(configs, c)
			}
		}
	}
	return configs, serveLines
}

const docToken = "f00dfeedf00dfeedf00dfeedf00dfeed"

// placeholders in the documents' configurations: a user's home, a token.
var (
	placeholderHome = regexp.MustCompile(`^(/Users/you|/home/you)/`)
	envRef          = regexp.MustCompile(`\$\{env:([A-Z_]+)\}`)
)

// localArgv is a document's serve command line made to run here: the
// program is this test binary as the CLI, a ledger under a placeholder
// home goes to dir, and the embedded sandbox is used. Nothing else of the
// line changes.
func localArgv(t *testing.T, where string, argv []string, dir string) []string {
	t.Helper()
	if len(argv) < 2 || filepath.Base(argv[0]) != "terrarium" || argv[1] != "serve" {
		t.Fatalf("%s: the server command is %q, want terrarium serve", where, argv)
	}
	out := []string{}
	for _, a := range argv[1:] {
		out = append(out, placeholderHome.ReplaceAllString(a, dir+"/"))
	}
	return append(out, "--sandbox", "local")
}

// dbOf is the ledger a serve command line writes, run in dir.
func dbOf(args []string, dir string) string {
	for i, a := range args {
		if a == "--db" && i+1 < len(args) {
			if filepath.IsAbs(args[i+1]) {
				return args[i+1]
			}
			return filepath.Join(dir, args[i+1])
		}
	}
	return filepath.Join(dir, "terrarium.db")
}

// checkOneCall checks that the ledger at path holds one run of the
// session with its one call.
func checkOneCall(t *testing.T, where, path string) {
	t.Helper()
	d, runs := openLedgerRuns(t, path)
	if len(runs) != 1 {
		t.Fatalf("%s: %d runs in %s, want 1", where, len(runs), path)
	}
	calls, err := d.Calls(context.Background(), runs[0].ID)
	if err != nil || len(calls) != 1 || calls[0].EndedAt.IsZero() || runs[0].Status == ledger.StatusRunning {
		t.Errorf("%s: run %s (%s), calls %+v, %v", where, runs[0].Status, runs[0].Reason, calls, err)
	}
}

// headerRT adds headers to every request.
type headerRT map[string]string

func (h headerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// oneCall lists the tools and reads the inbox once.
func oneCall(t *testing.T, where string, cs *mcp.ClientSession) {
	t.Helper()
	if _, err := cs.ListTools(context.Background(), nil); err != nil {
		t.Fatalf("%s: list tools: %v", where, err)
	}
	if got := call(t, cs, "list_emails", map[string]any{}); !strings.Contains(got, "@mail.") {
		t.Errorf("%s: inbox %q", where, got)
	}
}

// TestClientConfigsInTheDocs takes every client configuration that
// docs/agents.md and the README's serve section show (claude mcp add
// lines, claude_desktop_config.json, Codex's config.toml, Cursor's
// mcp.json, the generic HTTP one), parses it as its client would (bash
// words, JSON, TOML), and starts serve with exactly that command line
// (stdio) or the section's serve line and connects to exactly that URL
// with those headers (HTTP). The only changes: the program is this test
// binary, placeholder paths and the port point here, and the sandbox is
// the embedded one. Each session makes one call, which must be in the
// ledger the line names.
func TestClientConfigsInTheDocs(t *testing.T) {
	work := t.TempDir()
	env := map[string]string{"PWD": work, "TERRARIUM_TOKEN": docToken, "TOKEN": docToken, "HOME": work}
	configs, serveLines := docConfigs(t, "../../docs/agents.md", env)
	readme, _ := docConfigs(t, "../../README.md", env)
	for _, c := range readme {
		if strings.Contains(c.where, "terrarium serve") {
			configs = append(configs, c)
		}
	}
	kinds := map[string]int{}
	for _, c := range configs {
		kinds[strings.SplitN(c.where, " § ", 2)[1]]++
	}
	for _, want := range []string{"Claude Code", "Claude Desktop", "Codex", "Cursor", "Any streamable-HTTP client", "External agents: `terrarium serve`"} {
		if kinds[want] == 0 {
			t.Errorf("no client configuration found under %q (found %v)", want, kinds)
		}
	}
	for i, c := range configs {
		// The client puts the server's name in every tool's name, where
		// the model reads it.
		for _, w := range []string{"terrarium", "test", "eval", "scenario", "sandbox"} {
			if strings.Contains(strings.ToLower(c.name), w) || c.name == "" {
				t.Errorf("%s: the server is named %q: the model reads the name in every tool's", c.where, c.name)
			}
		}
		t.Run(fmt.Sprintf("%d %s", i, c.where), func(t *testing.T) {
			dir := t.TempDir()
			if c.argv != nil {
				runStdioConfig(t, c, work, dir)
				return
			}
			line, ok := serveLines[strings.SplitN(c.where, " § ", 2)[1]]
			if !ok {
				line = serveLines["Claude Code"] // "serve started as for Claude Code above"
			}
			runHTTPConfig(t, c, line, dir)
		})
	}
}

// runStdioConfig starts serve as the client would, in dir: work is what
// the document's $PWD expanded to, and becomes dir.
func runStdioConfig(t *testing.T, c clientConfig, work, dir string) {
	args := localArgv(t, c.where, c.argv, dir)
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, work, dir)
	}
	// The documents ask for the ledger's directory to exist.
	if err := os.MkdirAll(filepath.Dir(dbOf(args, dir)), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TERRARIUM_TEST_AS_CLI=1")
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cs, err := newTestClient().Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("%s: %v: connect: %v\n%s", c.where, args, err, stderr.String())
	}
	oneCall(t, c.where, cs)
	cs.Close()
	checkOneCall(t, c.where, dbOf(args, dir))
}

func runHTTPConfig(t *testing.T, c clientConfig, line []string, dir string) {
	if line == nil {
		t.Fatalf("%s: an HTTP configuration, and no serve --listen line to serve it", c.where)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	args := localArgv(t, c.where, line, dir)
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, ":8765", ":"+port)
	}
	args = append(args, "--db", dbOf(args, dir), "--log-level", "warn")
	getenv := func(k string) string {
		if k == "TERRARIUM_TOKEN" {
			return docToken
		}
		return ""
	}
	_, wait, stderr, stop := serveInProcess(t, getenv, args)
	headers := headerRT{}
	for k, v := range c.headers {
		v = strings.ReplaceAll(v, "<token>", docToken)
		v = envRef.ReplaceAllStringFunc(v, func(m string) string {
			if envRef.FindStringSubmatch(m)[1] == "TERRARIUM_TOKEN" {
				return docToken
			}
			return ""
		})
		headers[k] = v
	}
	url := strings.ReplaceAll(c.url, ":8765", ":"+port)
	tr := &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: headers}}
	cs, err := newTestClient().Connect(context.Background(), tr, nil)
	if err != nil {
		t.Fatalf("%s: connect %s with %v: %v\n%s", c.where, url, c.headers, err, stderr())
	}
	oneCall(t, c.where, cs)
	cs.Close()
	stop()
	wait()
	checkOneCall(t, c.where, dbOf(args, dir))
}
