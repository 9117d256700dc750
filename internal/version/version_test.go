package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	for _, tc := range []struct {
		name     string
		bi       debug.BuildInfo
		version  string
		revision string
		modified bool
		short    string
	}{
		{
			name:    "release from go install @version",
			bi:      debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/terrarium-evals/terrarium", Version: "v0.4.0"}},
			version: "v0.4.0", short: "v0.4.0",
		},
		{
			name:    "untagged commit from go install @latest",
			bi:      debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/terrarium-evals/terrarium", Version: "v0.0.0-20261201195203-1d1dfd4a0b2c"}},
			version: "v0.0.0-20261201195203-1d1dfd4a0b2c", revision: "1d1dfd4a0b2c", short: "v0.0.0-20261201195203-1d1dfd4a0b2c",
		},
		{
			name:    "pseudo-version after a tag",
			bi:      debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.4-0.20261201195203-abcdefabcdef+dirty"}},
			version: "v1.2.4-0.20261201195203-abcdefabcdef+dirty", revision: "abcdefabcdef", short: "v1.2.4-0.20261201195203-abcdefabcdef+dirty",
		},
		{
			name: "build in a checkout",
			bi: debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "1d1dfd4a0b2c5e6f7a8b9c0d1e2f3a4b5c6d7e8f"}, {Key: "vcs.modified", Value: "true"},
			}},
			version: "(devel)", revision: "1d1dfd4a0b2c5e6f7a8b9c0d1e2f3a4b5c6d7e8f", modified: true, short: "devel+1d1dfd4a0b2c",
		},
		{
			name:    "nothing known",
			bi:      debug.BuildInfo{},
			version: "(devel)", short: "devel",
		},
		{
			name:    "a tag that merely looks pseudo",
			bi:      debug.BuildInfo{Main: debug.Module{Version: "v1.0.0-rc1"}},
			version: "v1.0.0-rc1", short: "v1.0.0-rc1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := fromBuildInfo(&tc.bi)
			if in.Version != tc.version || in.Revision != tc.revision || in.Modified != tc.modified || in.Short() != tc.short {
				t.Errorf("got version %q revision %q modified %v short %q, want %q %q %v %q",
					in.Version, in.Revision, in.Modified, in.Short(), tc.version, tc.revision, tc.modified, tc.short)
			}
			if in.Go == "" {
				t.Errorf("Go version empty")
			}
		})
	}
}

func TestString(t *testing.T) {
	in := Info{Version: "(devel)", Revision: "1d1dfd4a0b2c5e6f", Modified: true, Go: "go1.26.8"}
	s := in.String()
	for _, want := range []string{"terrarium (devel)", "revision 1d1dfd4a0b2c, modified", "go1.26.8"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, want it to contain %q", s, want)
		}
	}
	if s := (Info{Version: "v0.4.0", Go: "go1.26.8"}).String(); !strings.Contains(s, "revision unknown") {
		t.Errorf("String() = %q, want it to say the revision is unknown", s)
	}
}

func TestGet(t *testing.T) {
	in := Get()
	if in.Version == "" || in.Go == "" {
		t.Errorf("Get() = %+v, want a version and a Go version", in)
	}
}
