package export

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/transcript"
)

// maxLine bounds one JSON line when reading: a run with large tool results
// can make a long line, but not an unbounded one.
const maxLine = 256 << 20

// WriteJSONL writes each run as one line: its transcript.Doc as JSON.
func WriteJSONL(ctx context.Context, db *ledger.DB, runs []ledger.Run, w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, r := range runs {
		doc, err := transcript.Load(ctx, db, r.ID)
		if err != nil {
			return fmt.Errorf("export run %d: %w", r.ID, err)
		}
		if err := enc.Encode(doc); err != nil {
			return fmt.Errorf("export run %d: %w", r.ID, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// ReadJSONL reads what WriteJSONL wrote. A line that is not a run is an
// error naming its line number; blank lines are skipped.
func ReadJSONL(r io.Reader) ([]transcript.Doc, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var out []transcript.Doc
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var d transcript.Doc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return out, fmt.Errorf("jsonl line %d: %w", line, err)
		}
		out = append(out, d)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("jsonl: %w", err)
	}
	return out, nil
}
