package world

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// MessageID is the RFC 5322 Message-ID header of a message the world
// holds, as the sender's mail system would have written it: a company
// (Postfix) server writes the UTC time and a queue id, an outside
// provider an opaque token. It is derived from the message's world id,
// sender and time, so it is the same in every run; internal says whether
// the sender is in the company's domains. It is also the id the
// assistant's mail tools show and accept.
func MessageID(id, from string, t time.Time, internal bool) string {
	sum := sha256.Sum256([]byte(id + "\x00" + from + "\x00" + t.UTC().Format(time.RFC3339)))
	domain := from[strings.LastIndexByte(from, '@')+1:]
	if internal {
		queue := strings.ToUpper(hex.EncodeToString(sum[:5]))
		return fmt.Sprintf("<%s.%s@mail.%s>", t.UTC().Format("20060102150405"), queue, domain)
	}
	tok := strings.ToLower(strings.TrimRight(base32.StdEncoding.EncodeToString(sum[:20]), "="))
	return fmt.Sprintf("<%s.%s@mx.%s>", tok[:20], tok[20:28], domain)
}

// BareMessageID is id without the angle brackets and space around it, the
// form two spellings of one Message-ID are compared in.
func BareMessageID(id string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
}
