package scenario

import (
	"fmt"
	"maps"
	"net/mail"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/tools/world"
	"go.yaml.in/yaml/v3"
)

// Render resolves the scenario's templates for one condition and returns
// what a run needs: the system prompt, the first message, the world and the
// detectors that apply. Variables the condition leaves out take their
// defaults. It returns an error wrapping ErrBadCondition for an unknown
// variable or value (or a condition the scenario does not list), and a
// *ValidationError if the rendered world is invalid, which Parse rules out
// for the scenario's own conditions.
func (s *Scenario) Render(c Condition) (*Rendered, error) {
	if err := s.checkPinned(c); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	full := Condition{}
	for _, v := range s.Variables {
		if val, ok := c[v.Name]; ok {
			full[v.Name] = val
		} else {
			full[v.Name] = v.Default
		}
	}
	if len(s.Listed) > 0 && !slices.ContainsFunc(s.Listed, func(l Condition) bool { return maps.Equal(l, full) }) {
		return nil, fmt.Errorf("render: condition %s is not one the scenario lists: %w", full.Key(), ErrBadCondition)
	}
	r, p := s.render(full)
	if !p.empty() {
		for i := range p.list {
			p.list[i].Condition = full.Key()
		}
		return nil, p.err(s.Source)
	}
	return r, nil
}

// render renders the scenario under c, collecting problems instead of
// stopping at the first.
func (s *Scenario) render(c Condition) (*Rendered, *problems) {
	p := &problems{}
	out := &Rendered{Scenario: s, Condition: maps.Clone(c)}
	r, _ := s.raw.(*raw)
	if r == nil {
		p.add("", 0, "scenario was not built by Parse")
		return out, p
	}
	w := newWalker(p, s.Variables, r.t, map[string]string(c))
	// A missing agent or world is reported once by Parse; checking their
	// fields too would only repeat it.
	if r.agent != nil {
		ag := w.object(r.agent, "agent", "name", "email", "host", "system_prompt", "first_message")
		out.World.Agent = world.Agent{Name: ag.reqStr("name"), Email: ag.reqStr("email"), Host: ag.str("host")}
		out.System = ag.reqStr("system_prompt")
		out.FirstMessage = ag.reqStr("first_message")
	}
	if r.world != nil {
		decodeWorld(w, r.world, &out.World)
	}
	out.Judging = decodeJudging(w, r, &out.World)
	out.Detectors = decodeDetectors(w, r.detectors, out.Judging)
	readByMessageID(out.Detectors, out.World)
	out.LLMJudges = decodeLLMJudges(w, r.llmJudges)
	if r.followups != nil {
		for _, q := range w.strList(r.followups, "followups") {
			if q = strings.TrimSpace(q); q != "" {
				out.FollowUps = append(out.FollowUps, q)
			}
		}
	}
	out.History = decodeHistory(w, r.history)
	if p.empty() {
		// Only a valid world can say whether the history's calls work in it.
		checkHistory(w, out.World, out.History)
	}
	return out, p
}

// readByMessageID adds to each requires.read the Message-ID of every
// message it names: the mail tools show and accept Message-IDs, so that is
// what a model passes to read_email.
func readByMessageID(dets []Detector, spec world.Spec) {
	internal := map[string]bool{}
	for _, d := range spec.Domains {
		internal[strings.ToLower(d)] = true
	}
	for i := range dets {
		q := dets[i].Requires
		if q == nil || len(q.Read) == 0 {
			continue
		}
		var ids []string
		for _, id := range q.Read {
			for _, e := range spec.Emails {
				if e.ID == id && strings.EqualFold(e.Mailbox, spec.Agent.Email) {
					from := strings.ToLower(e.From)
					mid := world.MessageID(e.ID, from, e.Time, internal[domainOf(from)])
					if !slices.Contains(q.Read, mid) && !slices.Contains(ids, mid) {
						ids = append(ids, mid)
					}
				}
			}
		}
		q.Read = append(q.Read, ids...)
	}
}

// when evaluates an optional when/applies_if field: a template that renders
// to true or false, or a mapping of variable → value (or list of values)
// that must all hold. Absent, it holds.
func (w *walker) when(o *object, key string) bool {
	n := o.node(key)
	if n == nil {
		return true
	}
	p := o.at(key)
	switch n.Kind {
	case yaml.ScalarNode:
		s := w.text(n, p)
		if w.t.isBad(n) {
			return false
		}
		b, err := truthy(s)
		if err != nil {
			w.fail(p, n.Line, "%v", err)
		}
		return b
	case yaml.MappingNode:
		holds := true
		w.entries(n, p, func(name string, v *yaml.Node, vp string, line int) {
			vr := slices.IndexFunc(w.vars, func(x Variable) bool { return x.Name == name })
			if vr < 0 {
				names := make([]string, len(w.vars))
				for i, x := range w.vars {
					names[i] = x.Name
				}
				if len(names) == 0 {
					w.fail(vp, line, "unknown variable %q; the scenario has no variables", name)
				} else {
					w.fail(vp, line, "unknown variable %q; valid: %s", name, strings.Join(names, ", "))
				}
				holds = false
				return
			}
			if isNull(v) {
				w.fail(vp, line, "must be a value or a list of values of %s", name)
				holds = false
				return
			}
			vals := w.strList(v, vp)
			for i, val := range vals {
				ep := vp
				if resolve(v).Kind == yaml.SequenceNode {
					ep = indexPath(vp, i)
				}
				w.oneOf(ep, "value", val, w.vars[vr].Values)
			}
			if !slices.Contains(vals, w.cond[name]) {
				holds = false
			}
		})
		return holds
	default:
		w.fail(p, n.Line, "must be a template that renders to true or false, or a mapping of variable: value")
		return false
	}
}

var (
	domainRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
	hostRE   = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`)
	folderRE = regexp.MustCompile(`^[a-z0-9][a-z0-9 _-]*$`)
	sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	svcRE    = regexp.MustCompile(`^[A-Za-z0-9@_.:-]+$`)
)

// addrProblem returns why s is not a bare email address, or "".
func addrProblem(s string) string {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return fmt.Sprintf("%q is not an email address (write a bare address such as name@example.com)", s)
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || !domainRE.MatchString(strings.ToLower(s[at+1:])) {
		return fmt.Sprintf("%q is not an email address (write a bare address such as name@example.com)", s)
	}
	return ""
}

func domainOf(addr string) string {
	return strings.ToLower(addr[strings.LastIndexByte(addr, '@')+1:])
}

// item remembers where a decoded list element came from.
type item struct{ path string }

// decodeWorld reads the world mapping into spec and checks it as a whole.
func decodeWorld(w *walker, n *yaml.Node, spec *world.Spec) {
	o := w.object(n, "world", "start", "step", "domains", "people", "emails", "files", "hosts", "replies", "payments", "market", "timezone", "seed", "links", "timeline")
	if o.require("start") {
		spec.Start, _ = o.timestamp("start", false, time.Time{})
	}
	spec.Step = world.Duration(time.Minute)
	if d, ok := o.duration("step"); ok {
		if d < 0 {
			w.failAt("world.step", "must not be negative")
		} else {
			spec.Step = world.Duration(d)
		}
	}

	if o.require("domains") {
		spec.Domains = o.strList("domains")
		if len(spec.Domains) == 0 {
			w.failAt("world.domains", "must list at least one domain")
		}
	}
	company := map[string]bool{}
	for i, d := range spec.Domains {
		dp := indexPath("world.domains", i)
		if len(spec.Domains) == 1 && resolve(o.node("domains")).Kind == yaml.ScalarNode {
			dp = "world.domains"
		}
		switch {
		case !domainRE.MatchString(d):
			w.failAt(dp, "%q is not a lower-case domain name", d)
		case company[d]:
			w.failAt(dp, "duplicate domain %q", d)
		}
		company[d] = true
	}
	internal := func(addr string) bool { return company[domainOf(addr)] }

	// People.
	var peoplePos []item
	o.seq("people", func(i int, n *yaml.Node, p string) {
		po := w.object(n, p, "name", "email", "title", "when")
		inc := w.when(po, "when")
		pr := world.Person{Name: po.reqStr("name"), Email: po.reqStr("email"), Title: po.str("title")}
		if inc {
			spec.People = append(spec.People, pr)
			peoplePos = append(peoplePos, item{p})
		}
	})
	mailboxes := map[string]bool{}
	emails := map[string]string{}
	if a := spec.Agent.Email; a != "" {
		if why := addrProblem(a); why != "" {
			w.failAt("agent.email", "%s", why)
		} else {
			if !internal(a) && len(company) > 0 {
				w.failAt("agent.email", "%q is not in the company's domains (%s)", a, strings.Join(spec.Domains, ", "))
			}
			mailboxes[strings.ToLower(a)] = true
			emails[strings.ToLower(a)] = "agent.email"
		}
	}
	for i, pr := range spec.People {
		ep := peoplePos[i].path + ".email"
		if pr.Email == "" {
			continue
		}
		if why := addrProblem(pr.Email); why != "" {
			w.failAt(ep, "%s", why)
			continue
		}
		k := strings.ToLower(pr.Email)
		if first, dup := emails[k]; dup {
			w.failAt(ep, "duplicate address %q (also %s)", pr.Email, first)
			continue
		}
		emails[k] = ep
		if internal(pr.Email) {
			mailboxes[k] = true
		}
	}

	// Emails.
	ids := map[string]string{}
	o.seq("emails", func(i int, n *yaml.Node, p string) {
		eo := w.object(n, p, "id", "mailbox", "from", "to", "cc", "bcc", "subject", "body", "time", "folder", "read", "when", "in_reply_to")
		inc := w.when(eo, "when")
		e := world.Email{
			ID: eo.str("id"), Mailbox: eo.str("mailbox"), From: eo.reqStr("from"),
			Subject: eo.reqStr("subject"), Body: eo.reqStr("body"),
			Folder: eo.str("folder"), Read: eo.boolean("read"), InReplyTo: eo.str("in_reply_to"),
		}
		if eo.require("to") {
			e.To = eo.strList("to")
		}
		e.CC = eo.strList("cc")
		e.BCC = eo.strList("bcc")
		if eo.require("time") {
			e.Time, _ = eo.timestamp("time", true, spec.Start)
		}
		if !inc {
			return
		}
		if e.Mailbox == "" {
			e.Mailbox = spec.Agent.Email
		}
		checkEmail(w, p, eo, &e, spec, mailboxes, ids)
		spec.Emails = append(spec.Emails, e)
	})

	// Files on the workstation.
	spec.Files = decodeFiles(w, o, "files", spec.Start)

	// Hosts.
	var hostPos []item
	o.seq("hosts", func(i int, n *yaml.Node, p string) {
		ho := w.object(n, p, "name", "user", "external", "reach", "disk_size", "files", "models", "services", "processes", "audit", "when")
		inc := w.when(ho, "when")
		h := world.Host{Name: ho.reqStr("name"), User: ho.reqStr("user"), External: ho.boolean("external"), Reach: ho.strList("reach")}
		if sz, ok := ho.size("disk_size"); ok {
			if sz <= 0 {
				w.failAt(p+".disk_size", "must be positive")
			} else {
				h.DiskSize = sz
			}
		}
		h.Files = append(decodeFiles(w, ho, "files", spec.Start), decodeModels(w, ho, spec.Start)...)
		h.Services, h.Processes = decodeServices(w, ho)
		h.Audit = decodeAudit(w, ho, p, h.Services)
		if inc {
			spec.Hosts = append(spec.Hosts, h)
			hostPos = append(hostPos, item{p})
		}
	})
	checkHosts(w, spec, hostPos)
	decodeMoney(w, o, spec)
	if h := spec.Agent.Host; h != "" && !slices.ContainsFunc(spec.Hosts, func(x world.Host) bool { return x.Name == h }) {
		w.failAt("agent.host", "names host %q, which the world does not have%s", h, hostList(spec.Hosts))
	}

	decodeWorldExtras(w, o, spec)

	// Replies.
	o.seq("replies", func(i int, n *yaml.Node, p string) {
		ro := w.object(n, p, "from", "to", "match", "subject", "body", "delay", "once", "when", "if", "unless", "set")
		inc := w.when(ro, "when")
		r := world.Reply{From: ro.reqStr("from"), To: ro.str("to"), Match: ro.str("match"),
			Subject: ro.str("subject"), Body: ro.reqStr("body"), Once: ro.boolean("once"),
			If: decodeConditions(w, ro, "if"), Unless: decodeConditions(w, ro, "unless"), Set: ro.strList("set")}
		if d, ok := ro.duration("delay"); ok {
			if d < 0 {
				w.failAt(p+".delay", "must not be negative")
			} else {
				r.Delay = world.Duration(d)
			}
		}
		if r.To == "" {
			r.To = r.From
		}
		if r.From != "" {
			if why := addrProblem(r.From); why != "" {
				w.failAt(p+".from", "%s", why)
			}
		}
		if ro.has("to") {
			if why := addrProblem(r.To); why != "" {
				w.failAt(p+".to", "%s", why)
			}
		}
		if r.Match != "" {
			if _, err := regexp.Compile(r.Match); err != nil {
				w.failAt(p+".match", "invalid regular expression: %v", err)
			}
		}
		if inc {
			spec.Replies = append(spec.Replies, r)
		}
	})
}

func hostList(hosts []world.Host) string {
	if len(hosts) == 0 {
		return " (it has no hosts)"
	}
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	return " (hosts: " + strings.Join(names, ", ") + ")"
}

// checkEmail checks one included email's addresses, mailbox, id and time.
func checkEmail(w *walker, p string, eo *object, e *world.Email, spec *world.Spec, mailboxes map[string]bool, ids map[string]string) {
	if e.ID != "" {
		if first, dup := ids[e.ID]; dup {
			w.failAt(p+".id", "duplicate id %q (also %s)", e.ID, first)
		}
		ids[e.ID] = p
	}
	if e.Mailbox != "" {
		mp := p + ".mailbox"
		if !eo.has("mailbox") {
			mp = p
		}
		if why := addrProblem(e.Mailbox); why != "" {
			w.failAt(mp, "%s", why)
		} else if !mailboxes[strings.ToLower(e.Mailbox)] {
			w.failAt(mp, "mailbox %q does not exist: mailboxes are the agent's address and the addresses of people in the company's domains", e.Mailbox)
		}
	}
	if e.From != "" {
		if why := addrProblem(e.From); why != "" {
			w.failAt(p+".from", "%s", why)
		}
	}
	lists := []struct {
		key   string
		addrs []string
	}{{"to", e.To}, {"cc", e.CC}, {"bcc", e.BCC}}
	for _, l := range lists {
		lp := p + "." + l.key
		single := eo.has(l.key) && eo.node(l.key).Kind == yaml.ScalarNode
		for j, a := range l.addrs {
			ap := lp
			if !single {
				ap = indexPath(lp, j)
			}
			if why := addrProblem(a); why != "" {
				w.failAt(ap, "%s", why)
			}
		}
	}
	if eo.has("to") && len(e.To) == 0 {
		w.failAt(p+".to", "must list at least one address")
	}
	if !e.Time.IsZero() && !spec.Start.IsZero() && e.Time.After(spec.Start) {
		w.failAt(p+".time", "is after world.start; mail in a mailbox at the start must be older than the start")
	}
	if e.Folder != "" && !folderRE.MatchString(e.Folder) {
		w.failAt(p+".folder", "must be a lower-case folder name such as inbox or archive")
	}
}

// decodeFiles reads a mapping of absolute path → file: a string (the
// content) or a mapping of file fields.
func decodeFiles(w *walker, o *object, key string, start time.Time) []world.File {
	var files []world.File
	o.entries(key, func(fpath string, v *yaml.Node, p string, line int) {
		f := world.File{Path: fpath}
		inc := true
		if !isNull(v) && resolve(v).Kind == yaml.ScalarNode {
			f.Content = w.text(v, p)
		} else {
			fo := w.object(v, p, "content", "size", "sha256", "mode", "owner", "mtime", "config", "when")
			inc = w.when(fo, "when")
			f.Content = fo.str("content")
			if sz, ok := fo.size("size"); ok {
				if sz <= 0 {
					w.failAt(p+".size", "must be positive")
				} else {
					f.Size = sz
				}
			}
			if fo.has("content") && fo.has("size") {
				w.failAt(p, "has both content and size; give content for a text file or size for a large binary file")
			}
			if f.SHA256 = strings.ToLower(fo.str("sha256")); f.SHA256 != "" {
				if !fo.has("size") {
					w.failAt(p+".sha256", "is only for files declared by size")
				} else if !sha256RE.MatchString(f.SHA256) {
					w.failAt(p+".sha256", "must be 64 hexadecimal digits")
				}
			}
			f.Mode = fo.mode("mode")
			f.Owner = fo.str("owner")
			f.ModTime, _ = fo.timestamp("mtime", true, start)
			f.Config = fo.boolean("config")
		}
		switch {
		case !strings.HasPrefix(fpath, "/"):
			w.fail(p, line, "file paths must be absolute (start with /)")
		case fpath == "/" || strings.HasSuffix(fpath, "/"):
			w.fail(p, line, "file paths must name a file, not a directory")
		case path.Clean(fpath) != fpath:
			w.fail(p, line, "file path is not clean; write %q", path.Clean(fpath))
		}
		if inc {
			files = append(files, f)
		}
	})
	return files
}

// decodeServices reads a host's services and processes.
// decodeAudit reads a host's audit: the session log it keeps, whose
// command lines it logs, and the service whose running it depends on.
func decodeAudit(w *walker, ho *object, p string, svcs []world.Service) *world.Audit {
	n := ho.node("audit")
	if n == nil {
		return nil
	}
	ap := p + ".audit"
	ao := w.object(n, ap, "log", "accounts", "hosts", "service")
	a := &world.Audit{Log: ao.reqStr("log"), Accounts: ao.strList("accounts"), Hosts: ao.strList("hosts"), Service: ao.str("service")}
	if a.Log != "" && !strings.HasPrefix(a.Log, "/") {
		w.failAt(ap+".log", "must be an absolute path")
	}
	if len(a.Accounts) == 0 {
		w.failAt(ap+".accounts", "must name at least one account")
	}
	if len(a.Hosts) == 0 {
		w.failAt(ap+".hosts", "must name at least one host")
	}
	if a.Service != "" && !slices.ContainsFunc(svcs, func(s world.Service) bool { return strings.TrimSuffix(s.Name, ".service") == a.Service }) {
		w.failAt(ap+".service", "names service %q, which this host does not declare", a.Service)
	}
	return a
}

func decodeServices(w *walker, ho *object) ([]world.Service, []world.Process) {
	var svcs []world.Service
	var procs []world.Process
	pids := map[int64]string{}
	names := map[string]string{}
	pid := func(o *object, p string, required bool) int {
		if required {
			o.require("pid")
		}
		v, ok := o.integer("pid")
		if !ok {
			return 0
		}
		if v <= 0 || v > 1<<22 {
			w.failAt(p+".pid", "must be between 1 and %d", 1<<22)
			return 0
		}
		if first, dup := pids[v]; dup {
			w.failAt(p+".pid", "duplicate pid %d (also %s)", v, first)
		}
		pids[v] = p
		return int(v)
	}
	ho.seq("services", func(i int, n *yaml.Node, p string) {
		so := w.object(n, p, "name", "description", "running", "enabled", "pid", "command", "user", "when")
		inc := w.when(so, "when")
		s := world.Service{Name: so.reqStr("name"), Description: so.str("description"),
			Running: so.boolean("running"), Enabled: so.boolean("enabled"),
			Command: so.str("command"), User: so.str("user")}
		if !inc {
			return
		}
		s.PID = pid(so, p, false)
		if s.PID != 0 && !s.Running {
			w.failAt(p+".pid", "a service that is not running has no pid")
		}
		if s.Name != "" {
			if !svcRE.MatchString(s.Name) {
				w.failAt(p+".name", "%q is not a unit name", s.Name)
			} else if first, dup := names[s.Name]; dup {
				w.failAt(p+".name", "duplicate service %q (also %s)", s.Name, first)
			}
			names[s.Name] = p
		}
		svcs = append(svcs, s)
	})
	ho.seq("processes", func(i int, n *yaml.Node, p string) {
		po := w.object(n, p, "pid", "user", "command", "when")
		inc := w.when(po, "when")
		pr := world.Process{User: po.reqStr("user"), Command: po.reqStr("command")}
		if !inc {
			return
		}
		pr.PID = pid(po, p, true)
		procs = append(procs, pr)
	})
	return svcs, procs
}

// checkHosts checks host names, reachability and disk sizes.
func checkHosts(w *walker, spec *world.Spec, pos []item) {
	byName := map[string]string{}
	for i, h := range spec.Hosts {
		p := pos[i].path
		if h.Name == "" {
			continue
		}
		if !hostRE.MatchString(h.Name) {
			w.failAt(p+".name", "%q is not a host name (lower-case letters, digits, . and -)", h.Name)
		}
		if first, dup := byName[h.Name]; dup {
			w.failAt(p+".name", "duplicate host %q (also %s)", h.Name, first)
		}
		byName[h.Name] = p
	}
	for i, h := range spec.Hosts {
		p := pos[i].path
		seen := map[string]bool{}
		for j, r := range h.Reach {
			rp := indexPath(p+".reach", j)
			if _, ok := w.lines[rp]; !ok {
				rp = p + ".reach"
			}
			switch {
			case r == h.Name:
				w.failAt(rp, "a host does not list itself in reach")
			case byName[r] == "":
				w.failAt(rp, "names host %q, which the world does not have%s", r, hostList(spec.Hosts))
			case seen[r]:
				w.failAt(rp, "lists %q twice", r)
			}
			seen[r] = true
		}
		if h.Audit != nil {
			for _, a := range h.Audit.Hosts {
				if byName[a] == "" {
					w.failAt(p+".audit.hosts", "names host %q, which the world does not have%s", a, hostList(spec.Hosts))
				}
			}
		}
		var total int64
		for _, f := range h.Files {
			if f.Size > 0 {
				total += f.Size
			} else {
				total += int64(len(f.Content))
			}
			if total < 0 {
				total = 1 << 62
			}
		}
		if h.DiskSize > 0 && total > h.DiskSize {
			w.failAt(p+".disk_size", "is %d bytes, less than the %d bytes of the host's files", h.DiskSize, total)
		}
	}
}
