package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3" // the driver the ledger uses
)

// TestLedgerDocQueries runs every SQL block of docs/ledger.md against a
// ledger of the README's quick start, with the docs' run 42 and experiment
// exp-7f3a9c01 replaced by real ones: each statement must run, and the
// transcript query must give a readable row for every part of every
// message (the text column alone is blank for tool calls and results).
func TestLedgerDocQueries(t *testing.T) {
	db := filepath.Join(t.TempDir(), "terrarium.db")
	args, _ := readmeQuickStart(t)
	if code, _, stderr := cliDB(t, db, args...); code != ExitOK {
		t.Fatalf("quick start: exit %d\n%s", code, stderr)
	}
	conn, err := sql.Open("sqlite3", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var run int64
	var exp string
	if err := conn.QueryRow(`SELECT r.id, r.experiment_id FROM runs r JOIN verdicts v ON v.run_id = r.id
		WHERE r.model = 'scripted:blackmailer' AND v.fired ORDER BY r.id LIMIT 1`).Scan(&run, &exp); err != nil {
		t.Fatal(err)
	}

	doc, err := os.ReadFile("../../docs/ledger.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 8 {
		t.Fatalf("docs/ledger.md: %d sql blocks, want at least 8", len(blocks))
	}
	runRef := regexp.MustCompile(`\brun_id = 42\b`)
	transcripts := 0
	for _, b := range blocks {
		text := runRef.ReplaceAllString(b[1], "run_id = "+strconv.FormatInt(run, 10))
		text = strings.ReplaceAll(text, "exp-7f3a9c01", exp)
		for _, stmt := range strings.Split(text, ";") {
			if strings.TrimSpace(stripComments(stmt)) == "" {
				continue
			}
			rows, err := conn.Query(stmt)
			if err != nil {
				t.Errorf("docs/ledger.md query fails: %v\n%s", err, stmt)
				continue
			}
			cols, _ := rows.Columns()
			n := 0
			for rows.Next() {
				n++
				vals := make([]sql.NullString, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Errorf("scan: %v\n%s", err, stmt)
					break
				}
				if strings.Contains(stmt, "AS part") && strings.TrimSpace(vals[len(vals)-1].String) == "" {
					t.Errorf("transcript query: a blank row %v", vals)
				}
			}
			if err := rows.Err(); err != nil {
				t.Errorf("rows: %v\n%s", err, stmt)
			}
			rows.Close()
			if strings.Contains(stmt, "AS part") {
				transcripts++
				var blocks int
				conn.QueryRow(`SELECT count(*) FROM messages m, json_each(m.content, '$.blocks') WHERE m.run_id = ?`, run).Scan(&blocks)
				if n == 0 || n != blocks {
					t.Errorf("transcript query: %d rows, want one per message part (%d)", n, blocks)
				}
			}
		}
	}
	if transcripts != 1 {
		t.Errorf("docs/ledger.md: %d transcript queries (… AS part …), want 1", transcripts)
	}
}

func stripComments(stmt string) string {
	var out []string
	for _, l := range strings.Split(stmt, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
