package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The MCP project's published conformance suite
// (@modelcontextprotocol/conformance on npm) drives "terrarium serve"
// over streamable HTTP, and the official TypeScript SDK's client
// (@modelcontextprotocol/sdk) drives it over stdio and streamable HTTP.
// .ci/run installs both and sets the variables.
const (
	conformanceEnv        = "TERRARIUM_MCP_CONFORMANCE"         // path to its "conformance" executable
	requireConformanceEnv = "TERRARIUM_REQUIRE_MCP_CONFORMANCE" // "1": a missing suite or SDK fails
	sdkEnv                = "TERRARIUM_MCP_SDK"                 // the directory @modelcontextprotocol/sdk is installed in
)

// conformanceSuite returns the suite's executable, or skips the test (fails
// it under TERRARIUM_REQUIRE_MCP_CONFORMANCE=1) when it is not installed.
func conformanceSuite(t *testing.T) string {
	t.Helper()
	return npmInstalled(t, conformanceEnv, "MCP conformance suite",
		"npm install --prefix DIR @modelcontextprotocol/conformance@0.1.6 and set "+conformanceEnv+"=DIR/node_modules/.bin/conformance")
}

// npmInstalled returns the path the variable env names, or skips the test
// (fails it under TERRARIUM_REQUIRE_MCP_CONFORMANCE=1, as .ci/run sets)
// when it is unset, names nothing, or node is not on PATH. install says how
// to install what is missing.
func npmInstalled(t *testing.T, env, what, install string) string {
	t.Helper()
	path := os.Getenv(env)
	why := ""
	switch {
	case path == "":
		why = env + " is not set"
	default:
		if _, err := os.Stat(path); err != nil {
			why = err.Error()
		} else if _, err := exec.LookPath("node"); err != nil {
			why = "node is not on PATH"
		}
	}
	if why == "" {
		return path
	}
	msg := what + " unavailable (" + why + "); install it with: " + install
	if os.Getenv(requireConformanceEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestMCPConformanceSuite runs the published suite's server scenarios that
// apply to a server declaring only tools and prompts, and checks that each
// passes. The suite's other server scenarios call the reference server's
// own test tools, resources and prompts (test_simple_text and the like), or
// capabilities serve does not declare (logging, completions, resources);
// for the latter the suite must see the spec's answer, -32601.
func TestMCPConformanceSuite(t *testing.T) {
	bin := conformanceSuite(t)
	endpoint, _, stderr, stop := httpServeStop(t, "--db", filepath.Join(t.TempDir(), "t.db"))
	defer stop()
	run := func(scenario string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "server", "--url", endpoint, "--scenario", scenario)
		cmd.Dir = t.TempDir() // the suite writes its results below the working directory
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	for _, sc := range []string{"server-initialize", "tools-list", "prompts-list"} {
		t.Run(sc, func(t *testing.T) {
			out := run(sc)
			if !strings.Contains(out, "Passed: 1/1, 0 failed") {
				t.Errorf("scenario %s did not pass:\n%s\nserve stderr:\n%s", sc, out, stderr())
			}
		})
	}
	for sc, capability := range map[string]string{"logging-set-level": "logging", "completion-complete": "completions", "resources-list": "resources"} {
		t.Run(sc, func(t *testing.T) {
			out := run(sc)
			if !strings.Contains(out, "MCP error -32601: "+capability+" not supported") {
				t.Errorf("scenario %s: want the method-not-found answer for an undeclared capability:\n%s", sc, out)
			}
		})
	}
}
