package shell

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/terrarium-evals/terrarium/tools/vfs"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// Exported errors. File helpers also return errors wrapping fs.ErrNotExist,
// fs.ErrExist, fs.ErrPermission, ErrIsDir and ErrNotDir.
var (
	// ErrNoSuchHost: the host name is not one of the network's hosts.
	ErrNoSuchHost = errors.New("no such host")
	// ErrBinary: the file has only a declared size and no readable text.
	ErrBinary = vfs.ErrBinary
	// ErrIsDir: a directory where a file is needed.
	ErrIsDir = vfs.ErrIsDir
	// ErrNotDir: a file where a directory is needed.
	ErrNotDir = vfs.ErrNotDir
)

// MaxOutput is the most a single Run returns on Stdout or on Stderr; more
// is cut and a note says how much was left out.
const MaxOutput = 64 << 10

// Output is what a terminal shows for one command line.
type Output struct {
	Stdout, Stderr string
	// Terminal is both streams as a terminal shows them: in the order they
	// were written (an error line before the echo that followed it); ""
	// when that order is not known, so stdout then stderr is shown.
	Terminal string
	ExitCode int
}

// HostInfo describes one host of the network.
type HostInfo struct {
	Name, User string
	External   bool
	Reach      []string
}

// FileInfo describes a file or directory for the workstation file tools.
type FileInfo struct {
	Path    string
	Dir     bool
	Size    int64
	Mode    fs.FileMode
	Owner   string
	ModTime time.Time
	SHA256  string
	// Declared: a size-only binary file whose bytes do not exist.
	Declared bool
}

// Network is the set of simulated hosts of one world. It is safe for
// concurrent use; calls are serialised.
type Network struct {
	mu     sync.Mutex
	clock  *world.Clock
	hosts  []*host
	byName map[string]*host
	// logins are the ssh sessions whose end is not logged yet.
	logins []login
}

type host struct {
	name     string
	user     string
	external bool
	reach    []string
	fs       *vfs.FS
	services []*service
	procs    []*process
	nextPID  int
	boot     time.Time
	prof     *profile
	// links are the paths to other hosts, by name.
	links map[string]world.Link
	// audit is the session log this host keeps of others, when it does.
	audit *world.Audit
	// logs is what keeps /var/log growing (logappend.go).
	logs logState
	// nice is the nice value renice gave a process, by PID (0 otherwise).
	nice map[int]int
}

type service struct {
	name    string // without .service
	desc    string
	user    string
	command string
	enabled bool
	state   string // active, inactive, failed
	result  string // for failed: signal, exit-code
	pid     int
	since   time.Time
	log     []logLine
	unitDir string // where its unit file is: /etc/systemd/system unless it came with a package
	// stopped is a running service's process suspended by a signal: it
	// stays active for systemd but does nothing until continued.
	stopped bool
}

type process struct {
	pid     int
	ppid    int // 1 when zero
	user    string
	command string
	start   time.Time
	stat    string // ps STAT; "Sl" when empty
	tty     string // "?" when empty
}

// NewNetwork builds the hosts of one world. Host names must be unique and
// non-empty, and Reach must name known hosts. A host's user defaults to
// "root". Spec files owned by nobody belong to the host's user.
func NewNetwork(hosts []world.Host, clock *world.Clock, opts ...Option) (*Network, error) {
	if clock == nil {
		return nil, errors.New("new network: nil clock")
	}
	var cfg netConfig
	for _, o := range opts {
		o(&cfg)
	}
	return built.network(hosts, clock, cfg)
}

// buildNetwork builds the hosts of one world from nothing; NewNetwork
// copies a network built from the same spec before when it can.
func buildNetwork(hosts []world.Host, clock *world.Clock, cfg netConfig) (*Network, error) {
	n := &Network{clock: clock, byName: map[string]*host{}}
	seen := map[string]bool{}
	for i, hs := range hosts {
		if hs.Name == "" {
			return nil, fmt.Errorf("new network: host %d: empty name", i)
		}
		if seen[hs.Name] {
			return nil, fmt.Errorf("new network: host %q: duplicate name", hs.Name)
		}
		seen[hs.Name] = true
	}
	b := &builder{hosts: hosts, profiles: newProfiles(hosts, cfg.seed), cfg: cfg}
	for _, hs := range hosts {
		h, err := b.newHost(hs, clock)
		if err != nil {
			return nil, fmt.Errorf("new network: host %q: %w", hs.Name, err)
		}
		n.hosts = append(n.hosts, h)
		n.byName[h.name] = h
	}
	for _, h := range n.hosts {
		for _, r := range h.reach {
			if _, ok := n.byName[r]; !ok {
				return nil, fmt.Errorf("new network: host %q: reach names unknown host %q", h.name, r)
			}
		}
	}
	if err := n.setLinks(cfg.links); err != nil {
		return nil, fmt.Errorf("new network: %w", err)
	}
	return n, nil
}

func homeOf(user string) string {
	if user == "root" {
		return "/root"
	}
	return "/home/" + user
}

// builder carries what building one host needs to know of the others.
type builder struct {
	hosts    []world.Host
	profiles map[string]*profile
	cfg      netConfig
}

// defaultCommands are the programs of services whose unit names no
// command, by unit name.
var defaultCommands = map[string]struct{ cmd, user string }{
	"rsyslog":       {"/usr/sbin/rsyslogd -n -iNONE", "root"},
	"node-exporter": {"/usr/bin/prometheus-node-exporter", "prometheus"},
	"nfs-server":    {"/usr/sbin/rpc.mountd --manage-gids", "root"},
	"nginx":         {"nginx: master process /usr/sbin/nginx -g daemon on; master_process on;", "root"},
	"postgresql":    {"/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main -c config_file=/etc/postgresql/15/main/postgresql.conf", "postgres"},
	"docker":        {"/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock", "root"},
}

func (b *builder) newHost(hs world.Host, clock *world.Clock) (*host, error) {
	user := hs.User
	if user == "" {
		user = "root"
	}
	now := clock.Now()
	loc := now.Location()
	p := b.profiles[hs.Name]
	ep := hostEpochs(p, now)
	h := &host{
		name:     hs.Name,
		user:     user,
		external: hs.External,
		reach:    append([]string(nil), hs.Reach...),
		fs:       vfs.New(clock, hs.DiskSize),
		boot:     ep.boot.In(loc),
		prof:     p,
		audit:    hs.Audit,
	}
	zone := loc.String()
	if zone == "" || zone == "Local" {
		zone = "Etc/UTC"
	}
	if err := h.fs.PutSystem(systemTree(hs, user, b.hosts, b.profiles, ep, loc, zone)); err != nil {
		return nil, err
	}
	if _, err := h.fs.Write("/etc/hostname", vfs.Content(hs.Name+"\n"), vfs.WriteOptions{Owner: "root", ModTime: jitter(p.rng, ep.installed, time.Hour).In(loc)}); err != nil {
		return nil, err
	}
	files := slices.Clone(hs.Files)
	for i := range files {
		// In a named zone every time shows in it; an unnamed offset keeps
		// the times as the scenario wrote them.
		if !files[i].ModTime.IsZero() && loc.String() != "" {
			files[i].ModTime = files[i].ModTime.In(loc)
		}
	}
	if err := h.fs.Load(files, user); err != nil {
		return nil, err
	}
	setup := jitter(p.rng, ep.installed.Add(26*time.Hour), 3*time.Hour).In(loc)
	if home := homeOf(user); !h.fs.Exists(home) {
		if err := h.fs.Mkdir(home, user, 0o755, true); err != nil {
			return nil, err
		}
		if user == "root" {
			_ = h.fs.Chmod(home, 0o700)
		}
	}
	for name, text := range map[string]string{
		".bashrc":      "# ~/.bashrc: executed by bash(1) for non-login shells.\ncase $- in\n    *i*) ;;\n      *) return;;\nesac\nHISTCONTROL=ignoreboth\nalias ll='ls -alF'\n",
		".profile":     "# ~/.profile: executed by the command interpreter for login shells.\nif [ -n \"$BASH_VERSION\" ]; then\n    if [ -f \"$HOME/.bashrc\" ]; then\n\t. \"$HOME/.bashrc\"\n    fi\nfi\n",
		".bash_logout": "# ~/.bash_logout: executed by bash(1) when login shell exits.\n\nif [ \"$SHLVL\" = 1 ]; then\n    [ -x /usr/bin/clear_console ] && /usr/bin/clear_console -q\nfi\n",
	} {
		pth := path.Join(homeOf(user), name)
		if !h.fs.Exists(pth) {
			if _, err := h.fs.Write(pth, vfs.Content(text), vfs.WriteOptions{Owner: user, ModTime: setup}); err != nil {
				return nil, err
			}
		}
	}
	used := map[int]bool{1: true}
	for _, pr := range hs.Processes {
		used[pr.PID] = true
	}
	for _, s := range hs.Services {
		if s.PID > 0 {
			used[s.PID] = true
		}
	}
	sys, next := systemProcs(h, p)
	for _, pr := range sys {
		if !used[pr.pid] {
			used[pr.pid] = true
			h.procs = append(h.procs, pr)
		}
	}
	hasRsyslog := slices.ContainsFunc(hs.Services, func(s world.Service) bool { return strings.TrimSuffix(s.Name, ".service") == "rsyslog" })
	r := hostRand(b.cfg.seed, hs.Name, "services")
	for i, s := range hs.Services {
		name := strings.TrimSuffix(s.Name, ".service")
		if name == "" {
			return nil, errors.New("service with empty name")
		}
		def := defaultCommands[name]
		sv := &service{name: name, desc: s.Description, user: s.User, command: s.Command, enabled: s.Enabled, state: "inactive", since: h.boot}
		if sv.user == "" {
			sv.user = def.user
		}
		if sv.user == "" {
			sv.user = "root"
		}
		if sv.command == "" {
			sv.command = def.cmd
		}
		if sv.command == "" {
			sv.command = "/usr/bin/" + name
		}
		if sv.desc == "" {
			sv.desc = name + ".service"
		}
		if s.Running {
			sv.state = "active"
			sv.pid = s.PID
			if sv.pid <= 0 {
				for used[next] {
					next++
				}
				sv.pid = next
				used[next] = true
				next += 1 + r.IntN(60)
			}
			sv.since = h.boot.Add(time.Duration(5+i)*time.Second + time.Duration(r.IntN(900))*time.Millisecond)
			sv.log = append(sv.log, logLine{sv.since, fmt.Sprintf("Started %s.", sv.unitDesc())})
		}
		h.services = append(h.services, sv)
		unit := "/etc/systemd/system/" + name + ".service"
		if !h.fs.Exists(unit) {
			if err := h.fs.Mkdir(path.Dir(unit), "root", 0o755, true); err != nil {
				return nil, err
			}
			text := fmt.Sprintf("[Unit]\nDescription=%s\nAfter=network.target\n\n[Service]\nType=simple\nUser=%s\nExecStart=%s\nRestart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n", sv.desc, sv.user, execStart(sv.command))
			if _, err := h.fs.Write(unit, vfs.Content(text), vfs.WriteOptions{Owner: "root", ModTime: jitter(r, setup.Add(48*time.Hour), 5*time.Hour)}); err != nil {
				return nil, err
			}
		}
		// The program the unit runs exists.
		if bin := execStart(sv.command); strings.HasPrefix(bin, "/") {
			bin = strings.Fields(bin)[0]
			if !h.fs.Exists(bin) {
				if err := h.fs.PutSystem([]vfs.SystemFile{{Path: bin, Blob: vfs.Declared(int64(2_000_000+r.IntN(14_000_000)), "", "bin:"+bin), Mode: 0o755, ModTime: jitter(r, setup.Add(48*time.Hour), 5*time.Hour)}}); err != nil {
					return nil, err
				}
			}
		}
	}
	if !hasRsyslog {
		for used[next] {
			next++
		}
		h.procs = append(h.procs, &process{pid: next, ppid: 1, user: "root", command: "/usr/sbin/rsyslogd -n -iNONE", start: h.boot.Add(4 * time.Second), stat: "Ssl", tty: "?"})
		used[next] = true
	}
	if err := h.addBaseUnits(); err != nil {
		return nil, err
	}
	for _, pr := range hs.Processes {
		proc := &process{pid: pr.PID, user: pr.User, command: pr.Command, start: h.boot.Add(2 * time.Minute)}
		if proc.user == "" {
			proc.user = user
		}
		h.procs = append(h.procs, proc)
	}
	sort.SliceStable(h.procs, func(i, j int) bool { return h.procs[i].pid < h.procs[j].pid })
	if err := h.fs.PutSystem(procTree(h, p)); err != nil {
		return nil, err
	}
	var reachedBy []string
	for _, o := range b.hosts {
		if o.Name != hs.Name && slices.Contains(o.Reach, hs.Name) {
			reachedBy = append(reachedBy, o.Name)
		}
	}
	h.logs.cron = now
	for _, f := range logTree(h, p, ep, now, b.profiles, reachedBy) {
		if h.fs.Exists(f.Path) {
			continue // the scenario's own log wins
		}
		if err := h.fs.PutSystem([]vfs.SystemFile{f}); err != nil {
			return nil, err
		}
	}
	// Shells started now get PIDs a server up this long would hand out.
	maxPID := 0
	for pid := range used {
		maxPID = max(maxPID, pid)
	}
	h.nextPID = max(maxPID+1000, int(p.uptime.Hours())*37+20_000+r.IntN(5_000))
	return h, nil
}

// execStart is the program line of a service's command, without the
// decoration ps shows ("nginx: master process /usr/sbin/nginx ...").
func execStart(cmd string) string {
	if i := strings.Index(cmd, ": master process "); i >= 0 {
		return strings.TrimSuffix(cmd[i+len(": master process "):], ";")
	}
	return cmd
}

// Hosts lists the network's hosts in spec order.
func (n *Network) Hosts() []HostInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]HostInfo, 0, len(n.hosts))
	for _, h := range n.hosts {
		out = append(out, HostInfo{Name: h.name, User: h.user, External: h.external, Reach: append([]string(nil), h.reach...)})
	}
	return out
}

func (n *Network) host(name string) (*host, error) {
	h, ok := n.byName[name]
	if !ok {
		return nil, fmt.Errorf("host %q: %w", name, ErrNoSuchHost)
	}
	return h, nil
}

// Run runs one command line on host as the host's user, in a fresh shell
// whose working directory is the user's home. It returns what a terminal
// would show; a failing command is a non-zero ExitCode, not an error. Each
// change to the world goes to emit as it happens, followed by one
// command_run event for the whole line. The only error is ErrNoSuchHost
// (wrapped). emit may be nil. Run is RunContext without a deadline.
func (n *Network) Run(hostName, line string, emit world.Emitter) (Output, error) {
	return n.RunContext(context.Background(), hostName, line, emit)
}

func toFileInfo(in vfs.Info) FileInfo {
	return FileInfo{Path: in.Path, Dir: in.Dir, Size: in.Size, Mode: in.Mode, Owner: in.Owner, ModTime: in.ModTime, SHA256: in.SHA256, Declared: in.Declared}
}

// ListFiles lists the direct children of dir on host, sorted by name. It
// fails with ErrNoSuchHost, fs.ErrNotExist, ErrNotDir or fs.ErrPermission
// (the host's user cannot read dir).
func (n *Network) ListFiles(hostName, dir string) ([]FileInfo, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	h, err := n.host(hostName)
	if err != nil {
		return nil, err
	}
	dir = absPath(homeOf(h.user), dir)
	if in, err := h.fs.Stat(dir); err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	} else if !in.Dir {
		return nil, fmt.Errorf("list files: %w", &fs.PathError{Op: "readdir", Path: dir, Err: ErrNotDir})
	}
	if err := h.fs.Check(dir, h.user, vfs.Read|vfs.Exec); err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	infos, err := h.fs.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	out := make([]FileInfo, len(infos))
	for i, in := range infos {
		out[i] = toFileInfo(in)
	}
	return out, nil
}

// Stat describes the file or directory at p on host (ErrNoSuchHost,
// fs.ErrNotExist, ErrNotDir).
func (n *Network) Stat(hostName, p string) (FileInfo, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	h, err := n.host(hostName)
	if err != nil {
		return FileInfo{}, err
	}
	in, err := h.fs.Stat(absPath(homeOf(h.user), p))
	if err != nil {
		return FileInfo{}, fmt.Errorf("stat: %w", err)
	}
	return toFileInfo(in), nil
}

// ReadFile returns the text of the file at p on host. It fails with
// ErrNoSuchHost, fs.ErrNotExist, ErrIsDir, fs.ErrPermission, or ErrBinary for
// a declared-size file.
func (n *Network) ReadFile(hostName, p string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	h, err := n.host(hostName)
	if err != nil {
		return "", err
	}
	p = absPath(homeOf(h.user), p)
	if err := h.fs.Check(p, h.user, vfs.Read); err != nil {
		return "", fmt.Errorf("read file: %w", err)
	}
	text, err := h.fs.ReadContent(p)
	if err != nil {
		return "", fmt.Errorf("read file: %w", err)
	}
	return text, nil
}

// userSession is a session as the host's own user for the file helpers. The
// caller holds n.mu.
func (n *Network) userSession(hostName string, emit world.Emitter) (*session, error) {
	h, err := n.host(hostName)
	if err != nil {
		return nil, err
	}
	if emit == nil {
		emit = func(world.Event) {}
	}
	return n.newSession(h, h.user, emit, 0), nil
}

// WriteFile writes content to p on host as the host's user. The parent
// directory must exist (fs.ErrNotExist); other errors: ErrNoSuchHost,
// ErrIsDir, ErrNotDir, fs.ErrPermission, vfs.ErrNoSpace. It emits
// file_written, and config_changed (via write) when p is a config file.
func (n *Network) WriteFile(hostName, p, content string, emit world.Emitter) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	s, err := n.userSession(hostName, emit)
	if err != nil {
		return err
	}
	p = absPath(s.home, p)
	if _, err := s.writeFile(p, vfs.Content(content), "write", false); err != nil {
		return fmt.Errorf("write file: %w", err)
	}
	return nil
}

// DeleteFile removes the file at p on host. Directories are refused with
// ErrIsDir; other errors: ErrNoSuchHost, fs.ErrNotExist, fs.ErrPermission.
// It emits file_deleted, and config_changed (via delete) for a config file.
func (n *Network) DeleteFile(hostName, p string, emit world.Emitter) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	s, err := n.userSession(hostName, emit)
	if err != nil {
		return err
	}
	h := s.h
	p = absPath(s.home, p)
	in, err := h.fs.Stat(p)
	if err != nil {
		return fmt.Errorf("delete file: %w", err)
	}
	if in.Dir {
		return fmt.Errorf("delete file: %w", &fs.PathError{Op: "delete", Path: p, Err: ErrIsDir})
	}
	if err := s.removePath(p, false, "delete"); err != nil {
		return fmt.Errorf("delete file: %w", err)
	}
	return nil
}

// FS returns the filesystem of host, for callers (tests, final-state
// judges) that inspect it directly. Changes made through it emit no events.
func (n *Network) FS(hostName string) (*vfs.FS, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	h, err := n.host(hostName)
	if err != nil {
		return nil, err
	}
	return h.fs, nil
}

// ServiceState describes one systemd unit for final-state inspection.
type ServiceState struct {
	Name    string
	Active  bool
	Enabled bool
	PID     int
}

// Services lists host's services in spec order.
func (n *Network) Services(hostName string) ([]ServiceState, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	h, err := n.host(hostName)
	if err != nil {
		return nil, err
	}
	out := make([]ServiceState, 0, len(h.services))
	for _, s := range h.services {
		out = append(out, ServiceState{Name: s.name, Active: s.state == "active", Enabled: s.enabled, PID: s.pid})
	}
	return out, nil
}

// absPath resolves p against dir and cleans it.
func absPath(dir, p string) string {
	if p == "" {
		return path.Clean(dir)
	}
	if !strings.HasPrefix(p, "/") {
		p = path.Join(dir, p)
	}
	return path.Clean(p)
}

// sortedServiceNames is used by list views.
func (h *host) sortedServices() []*service {
	out := append([]*service(nil), h.services...)
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func (h *host) service(name string) *service {
	name = strings.TrimSuffix(name, ".service")
	for _, s := range h.services {
		if s.name == name {
			return s
		}
	}
	return nil
}
