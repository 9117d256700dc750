package shell

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// top: without a terminal it cannot draw, so only batch mode (-b) works,
// as on Linux. A frame is the uptime line, task and CPU summaries, memory
// as free reports it, and the processes of ps with the same figures,
// busiest first. -n frames are -d seconds apart on the world's clock.

func cmdTop(c *call) int {
	if c.name == "htop" {
		c.err.WriteString("htop: failed tty get\n") // htop has no batch mode
		return 1
	}
	batch, frames, delay := false, -1, 3*time.Second
	sortMem, full := false, false
	var user string
	pids := map[int]bool{}
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		if len(a) < 2 || a[0] != '-' {
			c.err.printf("top: unknown option '%s'\n", a)
			return 1
		}
		for j := 1; j < len(a); j++ {
			ch := a[j]
			if strings.IndexByte("ndpuUow", ch) < 0 {
				switch ch {
				case 'b':
					batch = true
				case 'c':
					full = true
				case 'H', 'i', 'S', 'E', 'e', '1', 's', 'O':
				case 'v', 'V':
					c.out.WriteString("  procps-ng 4.0.2\n")
					return 0
				case 'h':
					c.out.WriteString("\nUsage:\n  top -hv | -bcEeHiOSs1 -d secs -n max -u|U user -p pid(s) -o field -w [cols]\n")
					return 0
				default:
					c.err.printf("top: unknown option '%c'\nUsage:\n  top -hv | -bcEeHiOSs1 -d secs -n max -u|U user -p pid(s) -o field -w [cols]\n", ch)
					return 1
				}
				continue
			}
			v := a[j+1:]
			if v == "" {
				if i+1 >= len(c.args) {
					c.err.printf("top: option requires an argument -- '%c'\n", ch)
					return 1
				}
				i++
				v = c.args[i]
			}
			switch ch {
			case 'n':
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 {
					c.err.printf("top: bad iterations argument '%s'\n", v)
					return 1
				}
				frames = n
			case 'd':
				secs, err := strconv.ParseFloat(v, 64)
				if err != nil || secs < 0 {
					c.err.printf("top: bad delay interval '%s'\n", v)
					return 1
				}
				delay = time.Duration(secs * float64(time.Second))
			case 'u', 'U':
				user = v
			case 'p':
				for _, f := range strings.Split(v, ",") {
					n, _ := strconv.Atoi(f)
					pids[n] = true
				}
			case 'o':
				sortMem = strings.TrimPrefix(v, "%") == "MEM"
			}
			break
		}
	}
	if !batch {
		c.err.WriteString("top: failed tty get\n")
		return 1
	}
	if frames < 0 {
		frames = 1 << 30 // until killed: the line's budget ends it
	}
	for f := 0; f < frames; f++ {
		if f > 0 {
			c.s.spend(delay)
			c.out.WriteString("\n")
		}
		c.topFrame(user, pids, sortMem, full)
	}
	return 0
}

func (c *call) topFrame(user string, pids map[int]bool, sortMem, full bool) {
	rows := c.s.procTable("")
	type line struct {
		r        procRow
		cpu, mem float64
		vsz, rss int
	}
	var lines []line
	running := 0
	for _, r := range rows {
		if strings.HasPrefix(r.stat, "R") {
			running++
		}
		if (user != "" && r.user != user) || (len(pids) > 0 && !pids[r.pid]) {
			continue
		}
		cpu, mem, vsz, rss := c.psStats(r)
		lines = append(lines, line{r, cpu, mem, vsz, rss})
	}
	sort.SliceStable(lines, func(i, j int) bool {
		if sortMem {
			return lines[i].mem > lines[j].mem
		}
		if lines[i].cpu != lines[j].cpu {
			return lines[i].cpu > lines[j].cpu
		}
		return lines[i].r.pid < lines[j].r.pid
	})
	c.out.WriteString("top - " + strings.TrimPrefix(c.s.uptimeLine(), " ") + "\n")
	c.out.printf("Tasks: %3d total, %3d running, %3d sleeping,   0 stopped,   0 zombie\n", len(rows), running, len(rows)-running)
	idle := 97.0 + float64(seeded(c.s.h.name+c.s.net.clock.Now().String(), 25))/10
	c.out.printf("%%Cpu(s): %4.1f us, %4.1f sy,  0.0 ni, %4.1f id,  0.0 wa,  0.0 hi,  0.1 si,  0.0 st\n", (99.9-idle)*0.7, (99.9-idle)*0.3, idle)
	total, used, free, _, cache := c.s.h.memFree()
	mib := func(kb int64) string { return fmt.Sprintf("%.1f", float64(kb)/1024) }
	c.out.printf("MiB Mem : %8s total, %8s free, %8s used, %8s buff/cache\n", mib(total), mib(free), mib(used), mib(cache))
	c.out.printf("MiB Swap: %8s total, %8s free, %8s used. %8s avail Mem\n\n", "0.0", "0.0", "0.0", mib(total-used))
	c.out.WriteString("    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n")
	for _, l := range lines {
		cmd := psComm(l.r.command)
		if full {
			cmd = l.r.command
		}
		pr, vsz, rss, shr := "20", l.vsz, l.rss, l.rss/5
		if strings.HasPrefix(l.r.command, "[") {
			pr, vsz, rss, shr = "20", 0, 0, 0
			if strings.HasSuffix(l.r.stat, "<") || strings.Contains(l.r.stat, "<") {
				pr = "0"
			}
		}
		secs := seeded(c.s.h.name+"/"+strconv.Itoa(l.r.pid)+"time", 6000)
		c.out.printf("%7d %-8s  %2s %3s %7d %6d %6d %s %5.1f %5.1f %9s %s\n", l.r.pid, psUser(l.r.user), pr, "0",
			vsz, rss, shr, l.r.stat[:1], l.cpu, l.mem, fmt.Sprintf("%d:%02d.%02d", secs/6000, secs/100%60, secs%100), cmd)
	}
}
