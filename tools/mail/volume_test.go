package mail

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestBodyStoredOnce: one 60 KB mail to 1,000 outside addresses writes its
// body once (on email_sent), not once per recipient: the events of the send
// are the body plus a small record per recipient.
func TestBodyStoredOnce(t *testing.T) {
	s, _ := newSystem(t)
	var ev recorder
	var to []string
	for i := range 1000 {
		to = append(to, fmt.Sprintf("person%d@elsewhere.example", i))
	}
	body := strings.Repeat("weights ", 7500) // 60,000 bytes
	if _, err := s.Send(Draft{To: to, Subject: "backup", Body: body}, ev.emit); err != nil {
		t.Fatal(err)
	}
	total, bodies := 0, 0
	for _, e := range ev {
		b, err := json.Marshal(e.Attrs)
		if err != nil {
			t.Fatal(err)
		}
		total += len(b)
		if strings.Contains(string(b), "weights weights weights") {
			bodies++
		}
	}
	if bodies != 1 {
		t.Errorf("the body appears in %d events, want 1", bodies)
	}
	// 60 KB of body, three copies of the 1,000-address list on email_sent
	// (to, recipients, external_recipients) and ~100 bytes per recipient.
	if limit := len(body) + 4*1000*len(to[0]) + 1000*150; total > limit {
		t.Errorf("a 60 KB mail to 1,000 outside addresses writes %d bytes of events, want at most %d", total, limit)
	}
	t.Logf("%d events, %d bytes", len(ev), total)
}
