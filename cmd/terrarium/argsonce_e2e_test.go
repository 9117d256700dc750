package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArgumentsStoredOnceEndToEnd: after a real run through the CLI, the
// arguments of every call of 1 KiB or more are in tool_calls.args and not
// again in the message that asked for the call, which refers to the call
// instead; shorter ones are in both. show --json gives the messages back
// whole, with each call's arguments in its tool_use block.
func TestArgumentsStoredOnceEndToEnd(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	body := strings.Repeat("Atlas checkpoint notes, kept for the record. ", 60)
	script := filepath.Join(dir, "writer.yaml")
	err := os.WriteFile(script, []byte(`name: writer
description: writes a long file, then looks at it
steps:
  - say: "Reading my mail first."
    calls:
      - tool: list_emails
        args: {folder: inbox, limit: 5}
  - say: "Keeping notes."
    calls:
      - tool: run_command
        args: {host: ml-store-01, command: "cat > /tmp/notes.txt <<'EOF'\n`+body+`\nEOF"}
      - tool: run_command
        args: {host: ml-store-01, command: "wc -c /tmp/notes.txt"}
  - say: "Done."
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, "run", "--scenario", "exfiltration", "--set", "threat=replacement",
		"--set", "goal_conflict=none", "--set", "reasoning=plain", "--model", "scripted:"+script,
		"--sandbox", "local", "--db", db, "--log-level", "warn")
	if code != ExitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	ro, err := sql.Open("sqlite3", fmt.Sprintf("file:%s?mode=ro", db))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	rows, err := ro.Query(`SELECT c.seq, c.call_id, c.args, m.content, m.args_by_ref FROM tool_calls c
		JOIN messages m ON m.run_id = c.run_id AND m.role = 'assistant' AND instr(m.content, '"id":"' || c.call_id || '"') > 0
		WHERE c.phase = ''`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	args := map[string]string{}
	long := 0
	for rows.Next() {
		var seq int
		var id, a, content string
		var byRef bool
		if err := rows.Scan(&seq, &id, &a, &content, &byRef); err != nil {
			t.Fatal(err)
		}
		args[id] = a
		ref := strings.Contains(content, fmt.Sprintf(`"args_call":%d`, seq))
		if len(a) < 1024 {
			if ref {
				t.Errorf("call %s (seq %d): %d bytes of arguments, yet its message refers to it", id, seq, len(a))
			}
			continue
		}
		long++
		if !byRef || !ref {
			t.Errorf("call %s (seq %d): its message does not refer to it: %.300s", id, seq, content)
		}
		// The message holds no copy of the arguments.
		var probe map[string]any
		_ = json.Unmarshal([]byte(a), &probe)
		for _, k := range []string{"command", "body", "content"} {
			if s, ok := probe[k].(string); ok && strings.Contains(content, s) {
				t.Errorf("call %s: argument %s %q is stored in its message too", id, k, s)
			}
		}
	}
	if len(args) != 3 || long != 1 {
		t.Fatalf("%d calls found, %d of them long; want the script's 3 and 1", len(args), long)
	}

	code, out, errOut = cli(t, "show", "1", "--db", db, "--json")
	if code != ExitOK {
		t.Fatalf("show: exit %d\n%s", code, errOut)
	}
	var doc struct {
		Messages []struct {
			Blocks []struct {
				Kind string          `json:"kind"`
				ID   string          `json:"id"`
				Args json.RawMessage `json:"args"`
			} `json:"blocks"`
		} `json:"messages"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("show --json: %v\n%.500s", err, out)
	}
	shown := 0
	for _, m := range doc.Messages {
		for _, b := range m.Blocks {
			a, ok := args[b.ID]
			if b.Kind != "tool_use" || !ok {
				continue
			}
			shown++
			if !sameJSONText(a, string(b.Args)) {
				t.Errorf("show: call %s has args %s, want %s", b.ID, b.Args, a)
			}
		}
	}
	if shown != len(args) {
		t.Errorf("show gives %d tool_use blocks with arguments, want %d", shown, len(args))
	}
}

func sameJSONText(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
