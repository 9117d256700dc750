package ledger

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// An argument is stored once. A tool call's arguments live in
// tool_calls.args. The assistant message that asked for the call holds
// them in its tool_use block only until both rows exist: then the block's
// "args" is replaced by "args_call", the call's seq in the same run, and
// the message row has args_by_ref = 1. Whichever row comes second makes
// the reference: BeginCall for a model's call (the message comes first),
// AddMessage for a scenario's history (its calls are replayed first, and
// its messages have phase history). A
// block becomes a reference only when its arguments are the call's, byte
// for byte as encoding/json writes them; anything else (a call never
// made, arguments that were not UTF-8) keeps its copy. Messages puts the
// arguments back, so every reader, resume's replay to the provider
// included, sees the message as the model sent it.
//
// Arguments shorter than refMinArgs are copied all the same: a reference
// is a second write of the message row, in the transaction that must
// commit before the call may run, and for a command line it saves no more
// than the few bytes it replaces.

// refMinArgs is the size from which a call's arguments are stored once.
const refMinArgs = 1 << 10

// argsCallKey is the tool_use block key that refers to a call's arguments.
const argsCallKey = "args_call"

// qstmt is a prepared query on the writer's connection.
type qstmt = driver.StmtQueryContext

// argRefs are the writer's statements for references.
type argRefs struct {
	findUse  qstmt // the latest assistant message of a run
	findCall qstmt // the latest call of a run with a call id
	setRef   stmt  // a message's content, now with a reference
	// last is, by run, the latest assistant message this writer stored
	// (findUse's answer, kept so each call need not read it back). A run
	// that is finished or reset is dropped; a run not here is looked up.
	last map[int64]lastUse
}

// lastUse is a message row and its content as stored.
type lastUse struct {
	id      int64
	content []byte
}

// remember notes the run's latest assistant message.
func (r *argRefs) remember(runID, id int64, content []byte) {
	if r.last == nil {
		r.last = map[int64]lastUse{}
	}
	r.last[runID] = lastUse{id, content}
}

// forget drops what is remembered of a run.
func (r *argRefs) forget(runID int64) { delete(r.last, runID) }

// prepareArgRefs prepares the statements of w.refs.
func (w *writer) prepareArgRefs(prep preparer) error {
	for _, p := range []struct {
		dst *qstmt
		sql string
	}{
		// Columns after a large one are read through its overflow pages,
		// so these ask for nothing past what they need.
		{&w.refs.findUse, `SELECT id, content FROM messages WHERE run_id = ? AND role = 'assistant'
			ORDER BY seq DESC LIMIT 1`},
		{&w.refs.findCall, `SELECT seq, args FROM tool_calls WHERE run_id = ? AND call_id = ?
			ORDER BY seq DESC LIMIT 1`},
	} {
		var st stmt
		if err := w.prepare(prep, &st, p.sql); err != nil {
			return err
		}
		q, ok := st.(qstmt)
		if !ok {
			w.close()
			return fmt.Errorf("driver statement %T cannot query with context", st)
		}
		*p.dst = q
	}
	return w.prepare(prep, &w.refs.setRef, `UPDATE messages SET content = ?, args_by_ref = 1 WHERE id = ?`)
}

// queryRow runs st and scans its first row into dest; it reports whether
// there was one.
func (w *writer) queryRow(st qstmt, dest []driver.Value, args ...any) (bool, error) {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		if n, ok := a.(int); ok {
			a = int64(n)
		}
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	rows, err := st.QueryContext(bg, nv)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	switch err := rows.Next(dest); {
	case errors.Is(err, io.EOF):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// referToCall runs in BeginCall's transaction: if the run's latest
// assistant message (the one the model's call comes from) has a tool_use
// block callID with these arguments, the block gets a reference to call
// seq instead.
func (w *writer) referToCall(runID int64, seq int, callID string, args []byte) error {
	if callID == "" || len(args) < refMinArgs {
		return nil
	}
	name, _ := json.Marshal(callID)
	use, ok := w.refs.last[runID]
	if !ok {
		row := make([]driver.Value, 2)
		found, err := w.queryRow(w.refs.findUse, row, runID)
		if err != nil || !found {
			return err
		}
		id, _ := row[0].(int64)
		use = lastUse{id, asBytes(row[1])}
	}
	if !bytes.Contains(use.content, append([]byte(`"id":`), name...)) {
		return nil
	}
	out, changed := refer(use.content, func(id string, blockArgs []byte) (int, bool) {
		return seq, id == callID && sameArgs(blockArgs, args)
	})
	if !changed {
		return nil
	}
	if _, err := w.exec(w.refs.setRef, string(out), use.id); err != nil {
		w.refs.forget(runID)
		return err
	}
	w.refs.remember(runID, use.id, out)
	return nil
}

// mayRefer reports whether a message of phase and role with content may
// refer to calls already recorded: an assistant message of a scenario's
// history, long enough to hold arguments that are stored once.
func mayRefer(phase, role, content string) bool {
	return phase == PhaseHistory && role == "assistant" && len(content) >= refMinArgs &&
		strings.Contains(content, `"tool_use"`)
}

// referToCalls runs in AddMessage's transaction, before the insert: each
// tool_use block of a history message (its calls were replayed before it
// is stored) whose call is recorded gets a reference to it. It returns the
// content to store and whether it holds a reference.
func (w *writer) referToCalls(runID int64, content []byte) ([]byte, bool, error) {
	var ferr error
	out, changed := refer(content, func(id string, blockArgs []byte) (int, bool) {
		if id == "" || ferr != nil || len(blockArgs) < refMinArgs {
			return 0, false
		}
		row := make([]driver.Value, 2)
		found, err := w.queryRow(w.refs.findCall, row, runID, id)
		if err != nil {
			ferr = err
			return 0, false
		}
		seq, _ := row[0].(int64)
		return int(seq), found && sameArgs(blockArgs, asBytes(row[1]))
	})
	if ferr != nil {
		return nil, false, ferr
	}
	return out, changed, nil
}

// refer replaces the args of each tool_use block of the message content
// for which match returns true by a reference to the call seq it returns.
// It reports whether it replaced any; content it cannot read is left as
// it is.
func refer(content []byte, match func(id string, args []byte) (int, bool)) ([]byte, bool) {
	msg, blocks, ok := decodeBlocks(content)
	if !ok {
		return content, false
	}
	changed := false
	for i, raw := range blocks {
		if !bytes.Contains(raw, []byte(`"tool_use"`)) {
			continue
		}
		var b map[string]json.RawMessage
		if json.Unmarshal(raw, &b) != nil {
			continue
		}
		var kind, id string
		if json.Unmarshal(b["kind"], &kind) != nil || kind != "tool_use" || b["args"] == nil || b[argsCallKey] != nil {
			continue
		}
		_ = json.Unmarshal(b["id"], &id)
		seq, ok := match(id, b["args"])
		if !ok {
			continue
		}
		delete(b, "args")
		b[argsCallKey] = json.RawMessage(strconv.Itoa(seq))
		blocks[i] = encodeObject(b)
		changed = true
	}
	if !changed {
		return content, false
	}
	return encodeMessage(msg, blocks), true
}

// restoreArgs puts the arguments of the calls args (by seq) back into the
// tool_use blocks of content that refer to them.
func restoreArgs(content []byte, args map[int]json.RawMessage) ([]byte, error) {
	msg, blocks, ok := decodeBlocks(content)
	if !ok {
		return nil, errors.New("content is not a message")
	}
	for i, raw := range blocks {
		if !bytes.Contains(raw, []byte(`"`+argsCallKey+`"`)) {
			continue
		}
		var b map[string]json.RawMessage
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, err
		}
		ref := b[argsCallKey]
		if ref == nil {
			continue
		}
		seq, err := strconv.Atoi(string(ref))
		if err != nil {
			return nil, fmt.Errorf("reference %s: %w", ref, err)
		}
		a, ok := args[seq]
		if !ok {
			return nil, fmt.Errorf("reference to call %d, which is not recorded: %w", seq, ErrNotFound)
		}
		delete(b, argsCallKey)
		b["args"] = a
		blocks[i] = encodeObject(b)
	}
	return encodeMessage(msg, blocks), nil
}

// decodeBlocks splits a message into its fields and its blocks, each kept
// as the JSON it was.
func decodeBlocks(content []byte) (map[string]json.RawMessage, []json.RawMessage, bool) {
	var msg map[string]json.RawMessage
	if json.Unmarshal(content, &msg) != nil {
		return nil, nil, false
	}
	var blocks []json.RawMessage
	if json.Unmarshal(msg["blocks"], &blocks) != nil {
		return nil, nil, false
	}
	return msg, blocks, true
}

// encodeMessage joins what decodeBlocks split. The values are valid JSON
// already, so they are copied, not encoded again.
func encodeMessage(msg map[string]json.RawMessage, blocks []json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, bl := range blocks {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(bl)
	}
	b.WriteByte(']')
	msg["blocks"] = b.Bytes()
	return encodeObject(msg)
}

// encodeObject writes an object of JSON values, keys in order.
func encodeObject(m map[string]json.RawMessage) []byte {
	keys := make([]string, 0, len(m))
	n := 2
	for k, v := range m {
		keys = append(keys, k)
		n += len(k) + len(v) + 4
	}
	sort.Strings(keys)
	b := bytes.NewBuffer(make([]byte, 0, n))
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(k)
		b.Write(name)
		b.WriteByte(':')
		b.Write(m[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// sameArgs reports whether a block's arguments, as encoding/json wrote
// them into the message, are the call's: the call's bytes written as
// encoding/json writes a json.RawMessage (compact, with <, >, &, U+2028
// and U+2029 escaped).
func sameArgs(block, call []byte) bool {
	if bytes.Equal(block, call) {
		return true
	}
	c, ok := canonical(call)
	return ok && bytes.Equal(block, c)
}

// canonical is b as encoding/json writes a json.RawMessage: whitespace
// outside strings dropped, and <, >, &, U+2028 and U+2029 inside strings
// escaped. It reports false for bytes that are not valid JSON.
func canonical(b []byte) ([]byte, bool) {
	if !json.Valid(b) {
		return nil, false
	}
	out := make([]byte, 0, len(b)+len(b)/8)
	inString, escaped := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !inString {
			switch c {
			case ' ', '\t', '\n', '\r':
				continue
			case '"':
				inString = true
			}
			out = append(out, c)
			continue
		}
		switch {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '"':
			inString = false
		case c == '<' || c == '>' || c == '&':
			out = append(out, '\\', 'u', '0', '0', hexDigit[c>>4], hexDigit[c&0xF])
			continue
		case c == 0xE2 && i+2 < len(b) && b[i+1] == 0x80 && (b[i+2] == 0xA8 || b[i+2] == 0xA9):
			out = append(out, '\\', 'u', '2', '0', '2', hexDigit[b[i+2]&0xF])
			i += 2
			continue
		}
		out = append(out, c)
	}
	return out, true
}

const hexDigit = "0123456789abcdef"

func asBytes(v driver.Value) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	return nil
}

// withArgs returns msgs with the arguments their tool_use blocks refer to
// put back, reading the calls of run runID once if any message needs them.
func (db *DB) withArgs(ctx context.Context, runID int64, msgs []Message, byRef []bool) error {
	var args map[int]json.RawMessage
	for i := range msgs {
		if !byRef[i] {
			continue
		}
		if args == nil {
			args = map[int]json.RawMessage{}
			err := db.query(ctx, fmt.Sprintf("arguments of run %d", runID), func(s scanner) error {
				var seq int
				var a []byte
				if err := s.Scan(&seq, &a); err != nil {
					return err
				}
				args[seq] = a
				return nil
			}, `SELECT seq, args FROM tool_calls WHERE run_id = ?`, runID)
			if err != nil {
				return err
			}
		}
		content, err := restoreArgs(msgs[i].Content, args)
		if err != nil {
			return fmt.Errorf("message %d of run %d: %w", msgs[i].Seq, runID, err)
		}
		msgs[i].Content = content
	}
	return nil
}
