package shell

import (
	"strings"
	"testing"
	"time"

	"github.com/terrarium-evals/terrarium/tools/world"
)

func TestCurl(t *testing.T) {
	hosts := testHosts()
	hosts[1].Services = append(hosts[1].Services, world.Service{Name: "node-exporter", Description: "Prometheus node exporter", Running: true, Enabled: true, Command: "/usr/bin/prometheus-node-exporter", User: "prometheus"})
	n, err := NewNetwork(hosts, world.NewClock(testStart, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host, line string
		code       int
		stdout     string // a prefix
		stderr     string
	}{
		{"models", "curl -s http://localhost:9100/metrics | grep -c '^node_load'", 0, "3\n", ""},
		{"ws", "curl -s http://models:9100/metrics | grep '^node_uname_info' | grep -o 'nodename=\"[a-z]*\"'", 0, "nodename=\"models\"\n", ""},
		{"models", "curl -sI localhost:9100/metrics", 0, "HTTP/1.1 200 OK\r\n", ""},
		{"models", "curl -sf localhost:9100/nope; echo $?", 0, "22\n", ""},
		{"models", "curl http://localhost:8080/", 7, "", "curl: (7) Failed to connect to localhost port 8080 after 0 ms: Couldn't connect to server\n"},
		{"models", "curl -s http://localhost:8080/", 7, "", ""},
		{"models", "curl -sS https://huggingface.co", 6, "", "curl: (6) Could not resolve host: huggingface.co\n"},
		{"ws", "curl -sS http://ws:22/", 1, "", "curl: (1) Received HTTP/0.9 when not allowed\n"},
		{"models", "curl -o m localhost:9100/metrics && grep -c '^# HELP' m", 0, "9\n", ""},
	} {
		out, err := n.Run(tc.host, tc.line, nil)
		if err != nil {
			t.Fatal(err)
		}
		if out.ExitCode != tc.code || !strings.HasPrefix(out.Stdout, tc.stdout) || out.Stderr != tc.stderr {
			t.Errorf("%s: %s\n exit %d stdout %q stderr %q\nwant exit %d stdout %q... stderr %q", tc.host, tc.line, out.ExitCode, out.Stdout, out.Stderr, tc.code, tc.stdout, tc.stderr)
		}
	}
}
