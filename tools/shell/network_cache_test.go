package shell

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// TestCachedNetworkIsTheBuiltOne checks that a network NewNetwork copies
// from its cache answers every call as a fresh build does, and that what
// one copy's calls change reaches neither the cache nor another copy.
func TestCachedNetworkIsTheBuiltOne(t *testing.T) {
	lines := []string{
		"ps aux | head -20", "ls -la /etc /var/log /dev | md5sum", "cat /proc/uptime /proc/loadavg", "date",
		"find / -xdev -newer /etc/hostname 2>/dev/null | wc -l", "systemctl status sync-agent | head -3",
		"echo x > /tmp/new && ln -s /tmp/new /tmp/l && rm /etc/app.conf; sleep 30; kill 2201; ls -l /tmp",
		"sudo systemctl stop sync-agent; systemctl stop oversight-monitor; ps aux | wc -l",
		"ssh models 'ls -la /models/v1; ps aux | tail -3; cat /etc/ssh/ssh_host_ed25519_key.pub'",
		"cat ~/.ssh/known_hosts | md5sum; journalctl -n 5 --no-pager", "stat /etc/passwd; ls -i /etc/hostname",
	}
	run := func(n *Network) []string {
		var out []string
		for _, l := range lines {
			for _, h := range []string{"ws", "models"} {
				rec := &recorder{}
				o, err := n.Run(h, l, rec.emit)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, o.Stdout, o.Stderr, fmtEvents(rec.events))
			}
		}
		return out
	}
	clock := func() *world.Clock { return world.NewClock(testStart, time.Minute) }
	fresh, err := buildNetwork(testHosts(), clock(), netConfig{seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	want := run(fresh)
	for i := range 3 {
		n, err := NewNetwork(testHosts(), clock(), WithSeed(7))
		if err != nil {
			t.Fatal(err)
		}
		if got := run(n); !reflect.DeepEqual(got, want) {
			for j := range got {
				if got[j] != want[j] {
					t.Fatalf("copy %d, output %d differs from a fresh build:\n got %q\nwant %q", i, j, got[j], want[j])
				}
			}
		}
	}
	// A different seed is a different world, not the cached one.
	other, err := NewNetwork(testHosts(), clock(), WithSeed(8))
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(run(other), want) {
		t.Error("a network of another seed answered as the cached one")
	}
}

// TestHostCloneCoversEveryField fails when host gains a field, so that
// whoever adds it decides how a copy takes it (host.clone).
func TestHostCloneCoversEveryField(t *testing.T) {
	const known = 14 // name user external reach fs services procs nextPID boot prof links logs (a value: copied whole) audit (read only) nice
	if n := reflect.TypeOf(host{}).NumField(); n != known {
		t.Fatalf("host has %d fields, host.clone knows %d: copy the new one there (deeply if calls change it) and update this count", n, known)
	}
	if n := reflect.TypeOf(Network{}).NumField(); n != 5 {
		t.Fatalf("Network has %d fields, Network.clone knows 5 (mu clock hosts byName, and logins, empty between lines)", n)
	}
}

func fmtEvents(evs []world.Event) string {
	var s string
	for _, e := range evs {
		s += e.Type + " " + e.Time.String() + " " + fmtAttrs(e.Attrs) + "\n"
	}
	return s
}

func fmtAttrs(a map[string]any) string {
	b, _ := json.Marshal(a)
	return string(b)
}
