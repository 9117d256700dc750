package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Info is what a binary was built from.
type Info struct {
	// Module is the main module's path, e.g.
	// github.com/terrarium-evals/terrarium.
	Module string `json:"module"`
	// Version is the main module's version: a release tag such as v0.4.0,
	// a pseudo-version for an untagged commit, or "(devel)" for a build
	// whose version the go command could not tell.
	Version string `json:"version"`
	// Revision is the VCS commit, when known: stamped by a build inside a
	// checkout, or read from a pseudo-version's commit part.
	Revision string `json:"revision,omitempty"`
	// Modified reports a build from a checkout with uncommitted changes.
	Modified bool `json:"modified,omitempty"`
	// Go is the Go version that built the binary, e.g. go1.26.8.
	Go string `json:"go"`
}

// Get returns the running binary's build information. In a binary built
// without module information (rare; some test binaries) Version is
// "(devel)" and Module is empty.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "(devel)", Go: runtime.Version()}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	in := Info{Module: bi.Main.Path, Version: bi.Main.Version, Go: bi.GoVersion}
	if in.Version == "" {
		in.Version = "(devel)"
	}
	if in.Go == "" {
		in.Go = runtime.Version()
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	if in.Revision == "" {
		in.Revision = pseudoRevision(in.Version)
	}
	return in
}

// pseudoRevision returns the commit part of a pseudo-version
// (v0.0.0-20261201195203-1d1dfd4a0b2c, v1.2.4-0.20261201195203-1d1dfd4a0b2c,
// each possibly with +incompatible or +dirty), or "".
func pseudoRevision(v string) string {
	v, _, _ = strings.Cut(v, "+")
	i := strings.LastIndexByte(v, '-')
	if i < 0 {
		return ""
	}
	rev := v[i+1:]
	if len(rev) != 12 || strings.Trim(rev, "0123456789abcdef") != "" {
		return ""
	}
	// The part before the revision ends in a 14-digit UTC timestamp.
	ts := v[:i]
	if j := strings.LastIndexAny(ts, "-."); j >= 0 {
		ts = ts[j+1:]
	}
	if len(ts) != 14 || strings.Trim(ts, "0123456789") != "" {
		return ""
	}
	return rev
}

// Short is the version alone, as a server reports it: the module version,
// or for a development build "devel" plus the first 12 digits of the
// revision when known (devel+1d1dfd4a0b2c).
func (in Info) Short() string {
	if in.Version != "(devel)" {
		return in.Version
	}
	if in.Revision == "" {
		return "devel"
	}
	return "devel+" + shortRev(in.Revision)
}

// String is the one line "terrarium version" prints:
//
//	terrarium v0.4.0 (revision 1d1dfd4a0b2c) go1.26.8 linux/amd64
func (in Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "terrarium %s", in.Version)
	if in.Revision != "" {
		fmt.Fprintf(&b, " (revision %s", shortRev(in.Revision))
		if in.Modified {
			b.WriteString(", modified")
		}
		b.WriteString(")")
	} else {
		b.WriteString(" (revision unknown)")
	}
	fmt.Fprintf(&b, " %s %s/%s", in.Go, runtime.GOOS, runtime.GOARCH)
	return b.String()
}

func shortRev(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
