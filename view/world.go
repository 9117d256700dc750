package view

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/terrarium-evals/terrarium/judge"
	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/tools/world"
	"github.com/terrarium-evals/terrarium/transcript"
)

// worldView is the world at the end of a run against its start: the start
// from the scenario the experiment stored, rendered for the run's
// condition; the end from the run's events.
type worldView struct {
	// Start is false when the stored scenario could not be rendered (a
	// ledger from before scenarios were stored); Note says why. The
	// changes are then listed without their start.
	Start    bool
	Note     string
	Inbox    int // messages in the agent's mailbox at the start
	Mails    []mailRow
	Files    []fileRow
	Copies   []copyRow
	Services []serviceRow
	Other    []otherRow
	Events   int
}

type mailRow struct {
	Anchor, To, Subject string
	External            bool
}

type fileRow struct {
	Host, Path string
	Before     string // "absent" or its size
	After      string
	Anchors    []string
}

type copyRow struct {
	Anchor, From, To, Via, Form string
	Bytes                       int64
	External                    bool
}

type serviceRow struct {
	Host, Name    string
	Before, After string
	Changed       bool
	Anchors       []string
}

type otherRow struct {
	Anchor, Type, Text string
}

type fileState struct {
	exists bool
	size   int64
}

func (f fileState) String() string {
	if !f.exists {
		return "absent"
	}
	return fmt.Sprintf("%d bytes", f.size)
}

func serviceState(running, enabled bool) string {
	s := "stopped"
	if running {
		s = "running"
	}
	if enabled {
		return s + ", enabled"
	}
	return s + ", disabled"
}

// worldOf builds the run's world view; a start it cannot render is noted,
// never an error: the events are still shown.
func (h *Handler) worldOf(r *http.Request, doc *transcript.Doc) worldView {
	var spec *world.Spec
	note := ""
	exp, err := h.db.Experiment(r.Context(), doc.Run.Experiment)
	if err == nil {
		var sc *scenario.Scenario
		if sc, err = judge.LoadScenario(exp); err == nil {
			var rd *scenario.Rendered
			if rd, err = sc.Render(scenario.Condition(doc.Run.Condition)); err == nil {
				spec = &rd.World
			}
		}
	}
	if err != nil {
		note = "the start is not shown: " + err.Error()
	}
	return worldDiff(spec, doc, note)
}

func worldDiff(spec *world.Spec, doc *transcript.Doc, note string) worldView {
	v := worldView{Start: spec != nil, Note: note}
	type fkey struct{ host, path string }
	type skey struct{ host, name string }
	start := map[fkey]fileState{}
	svcStart := map[skey][2]bool{}
	var svcOrder []skey
	if spec != nil {
		for _, e := range spec.Emails {
			if e.Mailbox == spec.Agent.Email {
				v.Inbox++
			}
		}
		ws := spec.Agent.Host
		if ws == "" {
			ws = "workstation" // as tools/server names it
		}
		for _, f := range spec.Files {
			start[fkey{ws, f.Path}] = fileState{true, fileSize(f)}
		}
		for _, hst := range spec.Hosts {
			for _, f := range hst.Files {
				start[fkey{hst.Name, f.Path}] = fileState{true, fileSize(f)}
			}
			for _, s := range hst.Services {
				k := skey{hst.Name, s.Name}
				svcStart[k] = [2]bool{s.Running, s.Enabled}
				svcOrder = append(svcOrder, k)
			}
		}
	}
	files := map[fkey]*fileRow{}
	var fileOrder []fkey
	touch := func(host, path, after, anchor string) {
		k := fkey{host, path}
		row := files[k]
		if row == nil {
			row = &fileRow{Host: host, Path: path, Before: start[k].String()}
			if spec == nil {
				row.Before = "?"
			}
			files[k] = row
			fileOrder = append(fileOrder, k)
		}
		row.After = after
		row.Anchors = append(row.Anchors, anchor)
	}
	svcEnd := map[skey][2]bool{}
	for k, s := range svcStart {
		svcEnd[k] = s
	}
	svcAnchors := map[skey][]string{}
	for _, c := range doc.Calls {
		for _, e := range c.Events {
			v.Events++
			a := attrsOf(e)
			anchor := eventAnchor(e.ID)
			switch e.Type {
			case world.EmailSent:
				v.Mails = append(v.Mails, mailRow{Anchor: anchor, To: strings.Join(a.strs("recipients"), ", "),
					Subject: a.str("subject"), External: a.bool("external")})
			case world.FileWritten:
				touch(a.str("host"), a.str("path"), fmt.Sprintf("%d bytes", a.num("bytes")), anchor)
			case world.FileDeleted:
				touch(a.str("host"), a.str("path"), "deleted", anchor)
			case world.FileCopied:
				form := a.str("form")
				v.Copies = append(v.Copies, copyRow{Anchor: anchor, From: a.str("src_host") + ":" + a.str("src_path"),
					To: a.str("dst_host") + ":" + a.str("dst_path"), Via: a.str("via"), Form: form,
					Bytes: a.num("bytes"), External: a.bool("dst_external")})
				if form == "" || form == "copy" {
					touch(a.str("dst_host"), a.str("dst_path"), fmt.Sprintf("%d bytes (copy of %s:%s)", a.num("bytes"), a.str("src_host"), a.str("src_path")), anchor)
				}
				if a.str("via") == "mv" {
					touch(a.str("src_host"), a.str("src_path"), "moved away", anchor)
				}
			case world.ServiceStopped, world.ServiceStarted, world.ServiceDisabled, world.ServiceEnabled:
				k := skey{a.str("host"), a.str("service")}
				st, known := svcEnd[k]
				if !known {
					svcOrder = append(svcOrder, k)
				}
				switch e.Type {
				case world.ServiceStopped:
					st[0] = false
				case world.ServiceStarted:
					st[0] = true
				case world.ServiceDisabled:
					st[1] = false
				case world.ServiceEnabled:
					st[1] = true
				}
				svcEnd[k] = st
				svcAnchors[k] = append(svcAnchors[k], anchor)
			case world.CommandRun, world.EmailDelivered, world.EmailExternal:
				// Shown with their calls; the mail itself is listed above.
			default:
				v.Other = append(v.Other, otherRow{Anchor: anchor, Type: e.Type, Text: a.text()})
			}
		}
	}
	for _, k := range fileOrder {
		v.Files = append(v.Files, *files[k])
	}
	for _, k := range svcOrder {
		before := "?"
		if s, ok := svcStart[k]; ok {
			before = serviceState(s[0], s[1])
		}
		after := serviceState(svcEnd[k][0], svcEnd[k][1])
		v.Services = append(v.Services, serviceRow{Host: k.host, Name: k.name, Before: before, After: after,
			Changed: before != after, Anchors: svcAnchors[k]})
	}
	sort.SliceStable(v.Services, func(i, j int) bool { return v.Services[i].Changed && !v.Services[j].Changed })
	return v
}

func fileSize(f world.File) int64 {
	if f.Size > 0 {
		return f.Size
	}
	return int64(len(f.Content))
}

// attrs is an event's attributes, read leniently: a missing or mistyped
// attribute reads as its zero value.
type attrs map[string]any

func attrsOf(e transcript.Event) attrs {
	var a attrs
	_ = json.Unmarshal(e.Attrs, &a)
	return a
}

func (a attrs) str(k string) string {
	s, _ := a[k].(string)
	return s
}

func (a attrs) bool(k string) bool {
	b, _ := a[k].(bool)
	return b
}

func (a attrs) num(k string) int64 {
	f, _ := a[k].(float64)
	return int64(f)
}

func (a attrs) strs(k string) []string {
	list, _ := a[k].([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// text renders the attributes as key=value pairs, sorted.
func (a attrs) text() string {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		b, _ := json.Marshal(a[k])
		parts = append(parts, k+"="+strings.Trim(string(b), `"`))
	}
	return strings.Join(parts, " ")
}
