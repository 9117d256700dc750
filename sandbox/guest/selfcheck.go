package guest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Report is what the tool server can see and do from where it runs. Inside
// the docker sandbox every field has one expected value; see SelfCheck.
type Report struct {
	UID    int   `json:"uid"`
	GID    int   `json:"gid"`
	Groups []int `json:"groups"`
	// The capability sets, as the hexadecimal masks of /proc/self/status
	// ("0000000000000000" is none).
	CapEff string `json:"cap_eff"`
	CapPrm string `json:"cap_prm"`
	CapBnd string `json:"cap_bnd"`
	CapAmb string `json:"cap_amb"`
	// NoNewPrivs is 1 when execve can no longer grant privileges.
	NoNewPrivs int `json:"no_new_privs"`
	// Seccomp is the seccomp mode: 0 off, 1 strict, 2 filter.
	Seccomp int `json:"seccomp"`
	// Interfaces are the network interfaces' names, sorted.
	Interfaces []string `json:"interfaces"`
	// Writes are the write probes, in a fixed order: "/", "/tmp", the
	// binary's directory (unless it is one of those), the binary itself.
	Writes []WriteProbe `json:"writes"`
	// Errors lists the probes that could not run at all.
	Errors []string `json:"errors,omitempty"`
}

// WriteProbe is one attempt to write.
type WriteProbe struct {
	Path     string `json:"path"`
	Writable bool   `json:"writable"`
	// Error is why the write failed ("" when it worked).
	Error string `json:"error,omitempty"`
}

// Writable reports the probe for path, and whether there was one.
func (r Report) Writable(path string) (WriteProbe, bool) {
	for _, w := range r.Writes {
		if w.Path == path {
			return w, true
		}
	}
	return WriteProbe{}, false
}

// SelfCheck inspects the running process: its ids, capabilities,
// no_new_privs and seccomp mode (from /proc/self/status), its network
// interfaces, and whether it can create a file in "/", "/tmp" and its own
// binary's directory and open its own binary for writing. Anything it
// creates it removes again. It never fails; a probe that cannot run is
// listed in Errors.
func SelfCheck() Report {
	r := Report{UID: os.Getuid(), GID: os.Getgid(), NoNewPrivs: -1, Seccomp: -1, Groups: []int{}, Interfaces: []string{}}
	if g, err := os.Getgroups(); err == nil {
		r.Groups = append(r.Groups, g...)
	} else {
		r.Errors = append(r.Errors, fmt.Sprintf("groups: %v", err))
	}
	if f, err := os.Open("/proc/self/status"); err == nil {
		st, err := parseStatus(f)
		f.Close()
		if err != nil {
			r.Errors = append(r.Errors, fmt.Sprintf("read /proc/self/status: %v", err))
		}
		r.CapEff, r.CapPrm, r.CapBnd, r.CapAmb = st["CapEff"], st["CapPrm"], st["CapBnd"], st["CapAmb"]
		r.NoNewPrivs = atoi(st["NoNewPrivs"], -1)
		r.Seccomp = atoi(st["Seccomp"], -1)
	} else {
		r.Errors = append(r.Errors, fmt.Sprintf("open /proc/self/status: %v", err))
	}
	if ifs, err := net.Interfaces(); err == nil {
		for _, i := range ifs {
			r.Interfaces = append(r.Interfaces, i.Name)
		}
		sort.Strings(r.Interfaces)
	} else {
		r.Errors = append(r.Errors, fmt.Sprintf("interfaces: %v", err))
	}
	r.Writes = append(r.Writes, probeDir("/"), probeDir("/tmp"))
	if exe, err := os.Executable(); err == nil {
		if dir := filepath.Dir(exe); dir != "/" && dir != "/tmp" {
			r.Writes = append(r.Writes, probeDir(dir))
		}
		r.Writes = append(r.Writes, probeFile(exe))
	} else {
		r.Errors = append(r.Errors, fmt.Sprintf("executable: %v", err))
	}
	return r
}

// parseStatus reads the "Key:\tvalue" lines of a /proc/PID/status file.
func parseStatus(r io.Reader) (map[string]string, error) {
	m := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m, sc.Err()
}

func atoi(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

// probeDir tries to create (and then removes) a file in dir.
func probeDir(dir string) WriteProbe {
	p := WriteProbe{Path: dir}
	f, err := os.CreateTemp(dir, ".terrarium-selfcheck-*")
	if err != nil {
		p.Error = err.Error()
		return p
	}
	p.Writable = true
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		p.Error = fmt.Sprintf("created but could not remove: %v", err)
	}
	return p
}

// probeFile tries to open path for writing, without changing it.
func probeFile(path string) WriteProbe {
	p := WriteProbe{Path: path}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	p.Writable = true
	f.Close()
	return p
}
