package guest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/terrarium-evals/terrarium/tools/server"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// ProtocolVersion is the envelope version this package writes and reads.
// A guest refuses an envelope of another version, so an image built from
// other sources fails at start instead of serving a misread world.
const ProtocolVersion = 1

// MaxEnvelopeBytes bounds the first line a guest reads.
const MaxEnvelopeBytes = 32 << 20

// ErrEnvelope reports a first line that is missing, too long, of another
// protocol version, or not a valid envelope.
var ErrEnvelope = errors.New("bad envelope")

// Envelope is the first line on a guest's stdin.
type Envelope struct {
	Version int        `json:"v"`
	World   world.Spec `json:"world"`
	Options Options    `json:"options,omitzero"`
}

// Options are the tool server's limits and handshake names, the
// serialisable part of server.Options. Zero fields take the server's
// defaults.
type Options struct {
	MaxArgBytes    int    `json:"max_arg_bytes,omitempty"`
	MaxResultBytes int    `json:"max_result_bytes,omitempty"`
	Name           string `json:"name,omitempty"`
	Version        string `json:"version,omitempty"`
}

// OptionsFrom takes the serialisable fields of o.
func OptionsFrom(o server.Options) Options {
	return Options{MaxArgBytes: o.MaxArgBytes, MaxResultBytes: o.MaxResultBytes, Name: o.Name, Version: o.Version}
}

// Server returns o as server.Options.
func (o Options) Server() server.Options {
	return server.Options{MaxArgBytes: o.MaxArgBytes, MaxResultBytes: o.MaxResultBytes, Name: o.Name, Version: o.Version}
}

// WriteEnvelope writes e as one line of JSON, setting its Version to
// ProtocolVersion.
func WriteEnvelope(w io.Writer, e Envelope) error {
	e.Version = ProtocolVersion
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode envelope: %w", err)
	}
	// encoding/json escapes newlines inside strings, so b is one line.
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write envelope: %w", err)
	}
	return nil
}

// ReadEnvelope reads the first line from r, and nothing after it, and
// decodes it. Errors wrap ErrEnvelope, except read errors other than EOF.
func ReadEnvelope(r *bufio.Reader) (Envelope, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > MaxEnvelopeBytes {
			return Envelope{}, fmt.Errorf("%w: first line is over %d bytes", ErrEnvelope, MaxEnvelopeBytes)
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			return Envelope{}, fmt.Errorf("%w: stdin ended before the first line", ErrEnvelope)
		}
		return Envelope{}, fmt.Errorf("read envelope: %w", err)
	}
	var e Envelope
	if err := json.Unmarshal(line, &e); err != nil {
		return Envelope{}, fmt.Errorf("%w: %w", ErrEnvelope, err)
	}
	if e.Version != ProtocolVersion {
		return Envelope{}, fmt.Errorf("%w: protocol version %d, this server speaks %d", ErrEnvelope, e.Version, ProtocolVersion)
	}
	return e, nil
}
