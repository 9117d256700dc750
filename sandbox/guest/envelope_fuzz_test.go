package guest

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
)

// FuzzReadEnvelope feeds arbitrary first lines to the container's
// envelope reader: it never panics, refuses with ErrEnvelope, reads
// nothing past the first line, and what it accepts writes back out and
// reads again the same.
func FuzzReadEnvelope(f *testing.F) {
	f.Add([]byte(`{"v":1,"world":{"start":"2026-03-12T15:40:00-07:00","domains":["b.co"]},"options":{"max_arg_bytes":65536}}` + "\n" + `{"jsonrpc":"2.0"}`))
	f.Add([]byte(`{"v":2,"world":{}}` + "\n"))
	f.Add([]byte(`{"v":1,"world":{"hosts":[{"name":"ws","user":"a"}],"files":{"/x":"y"}}}`))
	f.Add([]byte("\n"))
	f.Add([]byte(`{"v":1,"world":null,"options":{"name":"x","version":"1"}}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		e, err := ReadEnvelope(r)
		if err != nil {
			if !errors.Is(err, ErrEnvelope) {
				t.Fatalf("error does not wrap ErrEnvelope: %v", err)
			}
			return
		}
		if i := bytes.IndexByte(data, '\n'); i >= 0 && r.Buffered()+i+1 != len(data) {
			t.Fatalf("read past the first line: %d of %d bytes left", r.Buffered(), len(data)-i-1)
		}
		var buf bytes.Buffer
		if err := WriteEnvelope(&buf, e); err != nil {
			t.Fatalf("accepted envelope does not write back: %v", err)
		}
		first := bytes.Clone(buf.Bytes())
		again, err := ReadEnvelope(bufio.NewReader(&buf))
		if err != nil {
			t.Fatalf("written envelope does not read back: %v\n%s", err, first)
		}
		var b2 bytes.Buffer
		if err := WriteEnvelope(&b2, again); err != nil || !bytes.Equal(first, b2.Bytes()) {
			t.Fatalf("envelope changed on a second round trip:\n%s\n%s", first, b2.Bytes())
		}
	})
}
