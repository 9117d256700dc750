package shell

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Background jobs. A job (cmd &) runs when it is started, so its effects
// are there at once, but the time it spends (its sleeps, its hashing) is
// its own: the shell goes on at the same moment, jobs shows it running
// until the world's clock passes its end, wait moves the clock there, and
// kill ends it early.

type bgJob struct {
	n      int    // job number, %n
	pid    int    // $!
	text   string // the command as written
	end    time.Time
	status int
	killed bool
}

// running reports whether j has not ended by now.
func (j *bgJob) running(now time.Time) bool { return !j.killed && j.end.After(now) }

// findJob resolves a job spec (%1, %%, %+, %-) or a pid to one of the
// shell's jobs.
func (s *session) findJob(spec string) *bgJob {
	if len(s.jobList) == 0 {
		return nil
	}
	if !strings.HasPrefix(spec, "%") {
		pid, err := strconv.Atoi(spec)
		if err != nil {
			return nil
		}
		for _, j := range s.jobList {
			if j.pid == pid {
				return j
			}
		}
		return nil
	}
	switch spec {
	case "%", "%%", "%+":
		return s.jobList[len(s.jobList)-1]
	case "%-":
		if len(s.jobList) > 1 {
			return s.jobList[len(s.jobList)-2]
		}
		return s.jobList[0]
	}
	n, err := strconv.Atoi(spec[1:])
	if err != nil {
		for i := len(s.jobList) - 1; i >= 0; i-- {
			if strings.HasPrefix(s.jobList[i].text, spec[1:]) {
				return s.jobList[i]
			}
		}
		return nil
	}
	for _, j := range s.jobList {
		if j.n == n {
			return j
		}
	}
	return nil
}

func biJobs(c *call) int {
	s := c.s
	now := s.net.clock.Now()
	pidsOnly, long := false, false
	var specs []string
	for _, a := range c.args {
		switch a {
		case "-p":
			pidsOnly = true
		case "-l":
			long = true
		case "-r", "-s", "-n":
		default:
			specs = append(specs, a)
		}
	}
	list := s.jobList
	if len(specs) > 0 {
		list = nil
		for _, sp := range specs {
			j := s.findJob(sp)
			if j == nil {
				c.berr("%s: no such job", sp)
				return 1
			}
			list = append(list, j)
		}
	}
	var done []*bgJob
	for _, j := range list {
		if pidsOnly {
			c.out.printf("%d\n", j.pid)
			continue
		}
		mark := ' '
		switch {
		case j == s.jobList[len(s.jobList)-1]:
			mark = '+'
		case len(s.jobList) > 1 && j == s.jobList[len(s.jobList)-2]:
			mark = '-'
		}
		state := "Running"
		text := j.text + " &"
		switch {
		case j.killed:
			state, text = "Terminated", j.text
		case !j.running(now) && j.status != 0:
			state, text = fmt.Sprintf("Exit %d", j.status), j.text
		case !j.running(now):
			state, text = "Done", j.text
		}
		if long {
			c.out.printf("[%d]%c %d %-24s%s\n", j.n, mark, j.pid, state, text)
		} else {
			c.out.printf("[%d]%c  %-24s%s\n", j.n, mark, state, text)
		}
		if state != "Running" {
			done = append(done, j)
		}
	}
	// A job reported as ended is forgotten, as bash forgets it.
	s.forgetJobs(done)
	return 0
}

// forgetJobs drops jobs from the shell's list.
func (s *session) forgetJobs(jobs []*bgJob) {
	for _, d := range jobs {
		for i, j := range s.jobList {
			if j == d {
				s.jobList = append(s.jobList[:i:i], s.jobList[i+1:]...)
				break
			}
		}
	}
}

// waitFor moves the clock to the end of the jobs waited for, which the
// shell then forgets.
func (s *session) waitFor(jobs []*bgJob) {
	defer s.forgetJobs(slices.Clone(jobs))
	now := s.net.clock.Now()
	var until time.Time
	for _, j := range jobs {
		if j.running(now) && j.end.After(until) {
			until = j.end
		}
	}
	if until.After(now) {
		s.spend(until.Sub(now))
	}
}

// killJob ends job j with sig, as kill %n does; false when it has ended.
func (s *session) killJob(j *bgJob, sig int) bool {
	if !j.running(s.net.clock.Now()) {
		return false
	}
	if sig != 0 && sig != 18 && sig != 19 && sig != 28 {
		j.killed, j.status = true, 128+sig
		if s.bgStatus != nil {
			s.bgStatus[j.pid] = 128 + sig
		}
	}
	return true
}
