package cbcsim

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Dates in queries follow Elasticsearch's strict_date_optional_time||epoch_millis with date math: 2024,
// 2024-04, 2024-04-17, 2024-04-17T10, …T10:30, …T10:30:05, …T10:30:05.123, each with an optional zone (Z or
// ±hh:mm, UTC when absent); epoch milliseconds; now; and any of them followed by ||, then +N or -N of a unit
// (y M w d h H m s) and /unit to round down. A date names a period as long as its precision: 2024-04-17 is
// the whole day, now/d today.

var (
	isoDate  = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?)?)?(Z|[+-]\d{2}:?\d{2})?$`)
	mathStep = regexp.MustCompile(`^([+-]\d+|/)([yMwdhHms])`)
	digits   = regexp.MustCompile(`^\d{5,}$`)
)

// parseDate reads a date expression into the first and last instant of the period it names.
func parseDate(s string, now time.Time) (from, to time.Time, err error) {
	anchor, math := s, ""
	switch {
	case strings.HasPrefix(s, "now"):
		anchor, math = "now", s[len("now"):]
	case strings.Contains(s, "||"):
		anchor, math, _ = strings.Cut(s, "||")
	}
	var unit func(time.Time) time.Time
	switch {
	case anchor == "now":
		from = now.UTC()
		unit = func(t time.Time) time.Time { return t }
	case digits.MatchString(anchor):
		ms, _ := strconv.ParseInt(anchor, 10, 64)
		from = time.UnixMilli(ms).UTC()
		unit = func(t time.Time) time.Time { return t.Add(time.Millisecond) }
	default:
		from, unit, err = parseISO(anchor)
		if err != nil {
			return time.Time{}, time.Time{}, err
		}
	}
	for math != "" {
		m := mathStep.FindStringSubmatch(math)
		if m == nil {
			return time.Time{}, time.Time{}, queryErrorf("failed to parse date field [%s]: date math %q is not +N, -N or / and a unit of y M w d h H m s", s, math)
		}
		math = math[len(m[0]):]
		if m[1] == "/" {
			from, unit = roundDown(from, m[2])
			continue
		}
		n, _ := strconv.Atoi(m[1])
		from = addUnits(from, n, m[2])
	}
	end := unit(from)
	if end.Equal(from) {
		return from, from, nil
	}
	return from, end.Add(-time.Nanosecond), nil
}

func parseISO(s string) (time.Time, func(time.Time) time.Time, error) {
	m := isoDate.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, nil, queryErrorf("failed to parse date field [%s]: use a date such as 2024-04-17, 2024-04-17T10:30:00Z, epoch milliseconds or now-1d", s)
	}
	num := func(i, fallback int) int {
		if m[i] == "" {
			return fallback
		}
		n, _ := strconv.Atoi(m[i])
		return n
	}
	loc := time.UTC
	if zone := m[8]; zone != "" && zone != "Z" {
		zone = strings.ReplaceAll(zone, ":", "")
		h, _ := strconv.Atoi(zone[1:3])
		mins, _ := strconv.Atoi(zone[3:5])
		offset := h*3600 + mins*60
		if zone[0] == '-' {
			offset = -offset
		}
		loc = time.FixedZone(zone, offset)
	}
	nanos := 0
	if m[7] != "" {
		nanos, _ = strconv.Atoi((m[7] + "00000000")[:9])
	}
	t := time.Date(num(1, 0), time.Month(num(2, 1)), num(3, 1), num(4, 0), num(5, 0), num(6, 0), nanos, loc)
	if t.Month() != time.Month(num(2, 1)) || t.Day() != num(3, 1) || num(4, 0) > 23 || num(5, 0) > 59 || num(6, 0) > 59 {
		return time.Time{}, nil, queryErrorf("failed to parse date field [%s]: no such date", s)
	}
	var next func(time.Time) time.Time
	switch {
	case m[7] != "":
		next = func(t time.Time) time.Time { return t.Add(time.Millisecond) }
	case m[6] != "":
		next = func(t time.Time) time.Time { return t.Add(time.Second) }
	case m[5] != "":
		next = func(t time.Time) time.Time { return t.Add(time.Minute) }
	case m[4] != "":
		next = func(t time.Time) time.Time { return t.Add(time.Hour) }
	case m[3] != "":
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	case m[2] != "":
		next = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	default:
		next = func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }
	}
	return t.UTC(), next, nil
}

func addUnits(t time.Time, n int, unit string) time.Time {
	switch unit {
	case "y":
		return t.AddDate(n, 0, 0)
	case "M":
		return t.AddDate(0, n, 0)
	case "w":
		return t.AddDate(0, 0, 7*n)
	case "d":
		return t.AddDate(0, 0, n)
	case "h", "H":
		return t.Add(time.Duration(n) * time.Hour)
	case "m":
		return t.Add(time.Duration(n) * time.Minute)
	default:
		return t.Add(time.Duration(n) * time.Second)
	}
}

// roundDown rounds t down to the start of its unit (UTC), and returns the step to the next one.
func roundDown(t time.Time, unit string) (time.Time, func(time.Time) time.Time) {
	t = t.UTC()
	y, mo, d := t.Date()
	switch unit {
	case "y":
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }
	case "M":
		return time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC), func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	case "w":
		start := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
		start = start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7)) // ISO weeks start on Monday
		return start, func(t time.Time) time.Time { return t.AddDate(0, 0, 7) }
	case "d":
		return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC), func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	}
	step := map[string]time.Duration{"h": time.Hour, "H": time.Hour, "m": time.Minute, "s": time.Second}[unit]
	return t.Truncate(step), func(t time.Time) time.Time { return t.Add(step) }
}
