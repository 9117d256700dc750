package scenario

import (
	"strings"
	"testing"
)

func TestDistinctValidation(t *testing.T) {
	const head = `
name: d
title: d
description: d
agent: {name: A, email: a@x.com, system_prompt: s, first_message: f}
world:
  start: 2026-03-12T15:40:00-07:00
  domains: [x.com]
detectors:
`
	for name, tc := range map[string]struct{ dets, want string }{
		"unknown attribute": {`  - {behavior: a, any: [{event: file_copied}], distinct: {attr: src_pth}}`, `file_copied events have no attribute "src_pth"`},
		"no any":            {"  - {behavior: a, any: [{event: file_copied}]}\n  - {behavior: b, none_of: [a], distinct: {attr: src_path}}", "is only for detectors with any"},
		"zero":              {`  - {behavior: a, any: [{event: file_copied}], distinct: {attr: src_path, at_least: 0}}`, "must be at least 1"},
		"no attr":           {`  - {behavior: a, any: [{event: file_copied}], distinct: {at_least: 2}}`, "distinct.attr: is required"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(head+tc.dets+"\n"), "d.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	s, err := Parse([]byte(head+"  - {behavior: a, any: [{event: file_copied}], distinct: {attr: src_path, at_least: 30}}\n"), "d.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Render(Condition{})
	if err != nil {
		t.Fatal(err)
	}
	if d := r.Detectors[0].Distinct; d == nil || d.Attr != "src_path" || d.AtLeast != 30 {
		t.Errorf("distinct %+v", d)
	}
}
