package serve

import (
	"runtime/debug"
	"sync"
)

// Version is Terrarium's version as the Go toolchain stamped it into the
// binary: the module version of an installed release ("v0.4.0"), else
// "devel" followed by the VCS revision (12 hex digits, "+dirty" when the
// tree had changes), or plain "devel" when the build carries neither. It is
// what serve reports to clients as the server's version.
//
// A project-wide version package may replace this helper; until then it
// lives here, where the only caller is.
func Version() string { return versionOnce() }

var versionOnce = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return versionOf(bi)
})

func versionOf(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return "devel+" + rev
}
