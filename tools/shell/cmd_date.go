package shell

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// date: the clock's time in the host's zone, -d/--date with the forms
// agents write (absolute dates, @epoch, "now", "yesterday", "+1 day",
// "2 hours ago", "next friday"), -u, -r FILE, -I, -R and +FORMAT.

func (c *call) date(now time.Time) int {
	t := now
	utc := false
	var format string
	var dateArg *string
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case strings.HasPrefix(a, "+"):
			format = a[1:]
		case a == "-u" || a == "--utc" || a == "--universal":
			utc = true
		case a == "-d" || a == "--date":
			if i+1 >= len(c.args) {
				c.err.WriteString("date: option requires an argument -- 'd'\nTry 'date --help' for more information.\n")
				return 1
			}
			i++
			v := c.args[i]
			dateArg = &v
		case strings.HasPrefix(a, "--date="):
			v := strings.TrimPrefix(a, "--date=")
			dateArg = &v
		case strings.HasPrefix(a, "-d") && len(a) > 2:
			v := a[2:]
			dateArg = &v
		case a == "-r" || a == "--reference":
			if i+1 >= len(c.args) {
				c.err.WriteString("date: option requires an argument -- 'r'\nTry 'date --help' for more information.\n")
				return 1
			}
			i++
			in, err := c.s.h.fs.Stat(c.s.abs(c.args[i]))
			if err != nil {
				c.err.printf("date: %s: %s\n", c.args[i], errText(err))
				return 1
			}
			t = in.ModTime
		case a == "-R" || a == "--rfc-email":
			format = "%a, %d %b %Y %H:%M:%S %z"
		case a == "-I" || a == "--iso-8601" || a == "-Idate" || a == "--iso-8601=date":
			format = "%Y-%m-%d"
		case a == "-Iseconds" || a == "--iso-8601=seconds":
			format = "%Y-%m-%dT%H:%M:%S%:z"
		case a == "-Iminutes" || a == "--iso-8601=minutes":
			format = "%Y-%m-%dT%H:%M%:z"
		case a == "-Ihours" || a == "--iso-8601=hours":
			format = "%Y-%m-%dT%H%:z"
		case a == "-Ins" || a == "--iso-8601=ns":
			format = "%Y-%m-%dT%H:%M:%S,%N%:z"
		case strings.HasPrefix(a, "--rfc-3339="):
			switch strings.TrimPrefix(a, "--rfc-3339=") {
			case "date":
				format = "%Y-%m-%d"
			case "ns":
				format = "%Y-%m-%d %H:%M:%S.%N%:z"
			default:
				format = "%Y-%m-%d %H:%M:%S%:z"
			}
		case a == "-s" || a == "--set" || strings.HasPrefix(a, "--set="):
			c.err.WriteString("date: cannot set date: Operation not permitted\n")
			return 1
		case strings.HasPrefix(a, "--"):
			c.err.printf("date: unrecognized option '%s'\nTry 'date --help' for more information.\n", a)
			return 1
		case strings.HasPrefix(a, "-") && len(a) > 1:
			c.err.printf("date: invalid option -- '%c'\nTry 'date --help' for more information.\n", a[1])
			return 1
		default:
			// MMDDhhmm[[CC]YY][.ss] sets the clock.
			if regexp.MustCompile(`^\d{8}(\d{2}|\d{4})?(\.\d\d)?$`).MatchString(a) {
				c.err.WriteString("date: cannot set date: Operation not permitted\n")
				return 1
			}
			c.err.printf("date: invalid date %s\n", quoteName(a))
			return 1
		}
	}
	if utc {
		t = t.UTC()
	}
	if dateArg != nil {
		parsed, ok := parseDate(*dateArg, t)
		if !ok {
			c.err.printf("date: invalid date %s\n", quoteName(*dateArg))
			return 1
		}
		t = parsed
		if utc {
			t = t.UTC()
		}
	}
	if format == "" {
		format = "%a %b %e %H:%M:%S %Z %Y"
	}
	c.out.WriteString(strftime(format, t) + "\n")
	return 0
}

var (
	relDate = regexp.MustCompile(`^([+-]?\d+)?\s*(sec|second|min|minute|hour|day|week|fortnight|month|year)s?(\s+ago)?$`)
	weekday = map[string]time.Weekday{"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6,
		"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
)

// parseDate reads the date strings GNU date -d accepts that agents use,
// relative to now and in now's zone.
func parseDate(s string, now time.Time) (time.Time, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	loc := now.Location()
	if s == "" || s == "now" || s == "today" {
		return now, true
	}
	if strings.HasPrefix(s, "@") {
		f, err := strconv.ParseFloat(s[1:], 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(int64(f), int64((f-float64(int64(f)))*1e9)).In(loc), true
	}
	switch s {
	case "yesterday":
		return now.AddDate(0, 0, -1), true
	case "tomorrow":
		return now.AddDate(0, 0, 1), true
	case "midnight":
		y, m, d := now.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc), true
	case "noon":
		y, m, d := now.Date()
		return time.Date(y, m, d, 12, 0, 0, 0, loc), true
	}
	// Several relative items in a row: "1 day ago", "+2 hours 30 min".
	if t, ok := relative(s, now); ok {
		return t, true
	}
	for _, prefix := range []string{"next ", "last ", "this "} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			if wd, ok := weekday[rest]; ok {
				diff := (int(wd) - int(now.Weekday()) + 7) % 7
				switch {
				case prefix == "last ":
					diff = -((int(now.Weekday()) - int(wd) + 7) % 7)
					if diff == 0 {
						diff = -7
					}
				case diff == 0 && prefix == "next ":
					diff = 7
				}
				y, m, d := now.AddDate(0, 0, diff).Date()
				return time.Date(y, m, d, 0, 0, 0, 0, loc), true
			}
			if t, ok := relative("1 "+rest, now); ok && prefix == "next " {
				return t, true
			}
			if t, ok := relative("-1 "+rest, now); ok && prefix == "last " {
				return t, true
			}
		}
	}
	if wd, ok := weekday[s]; ok {
		diff := (int(wd) - int(now.Weekday()) + 7) % 7
		y, m, d := now.AddDate(0, 0, diff).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc), true
	}
	// Absolute forms, with an optional relative tail ("2026-03-12 + 1 day"
	// is rare; a time alone means today).
	layouts := []string{
		"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02t15:04:05", "2006-01-02t15:04", "2006-01-02",
		"2006-01-02 15:04:05 -0700", "2006-01-02t15:04:05-07:00", "2006-01-02t15:04:05z", "2006-01-02 15:04:05 mst",
		"2006/01/02 15:04:05", "2006/01/02 15:04", "2006/01/02", "01/02/2006", "01/02/2006 15:04",
		"jan 2 2006", "jan 2, 2006", "january 2 2006", "january 2, 2006", "2 jan 2006", "2 january 2006",
		"mon jan 2 15:04:05 mst 2006", "mon jan _2 15:04:05 mst 2006", "mon, 02 jan 2006 15:04:05 -0700",
		"jan 2 15:04", "jan 2",
	}
	for _, l := range layouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			if !strings.Contains(l, "2006") {
				t = t.AddDate(now.Year(), 0, 0)
			}
			return t, true
		}
	}
	for _, l := range []string{"15:04:05", "15:04", "3pm", "3:04pm", "3 pm"} {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			y, m, d := now.Date()
			return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), 0, loc), true
		}
	}
	// A date followed by a relative item: "2026-03-12 +1 day".
	if f := strings.Fields(s); len(f) >= 2 {
		for k := len(f) - 1; k >= 1; k-- {
			base, ok := parseDate(strings.Join(f[:k], " "), now)
			if !ok {
				continue
			}
			if t, ok := relative(strings.Join(f[k:], " "), base); ok {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// relative applies one or more items like "+1 day", "2 hours ago",
// "week" to now.
func relative(s string, now time.Time) (time.Time, bool) {
	f := strings.Fields(s)
	t := now
	any := false
	for i := 0; i < len(f); {
		n := 1
		j := i
		if v, err := strconv.Atoi(strings.TrimPrefix(f[j], "+")); err == nil {
			n = v
			j++
		}
		if j >= len(f) {
			return time.Time{}, false
		}
		unit := strings.TrimSuffix(f[j], "s")
		j++
		if j < len(f) && f[j] == "ago" {
			n = -n
			j++
		}
		m := relDate.FindStringSubmatch(strconv.Itoa(n) + " " + unit)
		if m == nil {
			return time.Time{}, false
		}
		switch m[2] {
		case "sec", "second":
			t = t.Add(time.Duration(n) * time.Second)
		case "min", "minute":
			t = t.Add(time.Duration(n) * time.Minute)
		case "hour":
			t = t.Add(time.Duration(n) * time.Hour)
		case "day":
			t = t.AddDate(0, 0, n)
		case "week":
			t = t.AddDate(0, 0, 7*n)
		case "fortnight":
			t = t.AddDate(0, 0, 14*n)
		case "month":
			t = t.AddDate(0, n, 0)
		case "year":
			t = t.AddDate(n, 0, 0)
		}
		any = true
		i = j
	}
	return t, any
}
