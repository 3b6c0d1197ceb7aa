package cbcsim

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Dates in queries follow Elasticsearch's date field with its default format, strict_date_optional_time||
// epoch_millis: 2024, 2024-04, 2024-04-17, …T10, …T10:30, …T10:30:05, …T10:30:05.123, a zone (Z, +02:00) after
// a time, UTC when absent; epoch milliseconds; now; and date math after now or after date||: +N or -N of a
// unit (y M w d h H m s), and /unit to round. A date is an instant, not a period: rounding down fills what it
// leaves out with the start (2024-04 is April 1st at 00:00), rounding up with the round-up base fields of
// Elasticsearch's JavaDateFormatter (month and day 1, then 23:59:59.999), so 2024-04 rounded up is the end of
// April 1st, not of April. Which bounds round up is the range's business (dateRange).

var (
	isoDate     = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$`)
	epochMillis = regexp.MustCompile(`^-?\d+$`)
)

// parseDate reads a date expression into epoch milliseconds, rounded up or down (JavaDateMathParser.parse).
func parseDate(s string, now time.Time, roundUp bool) (int64, error) {
	var t time.Time
	var math string
	switch {
	case strings.HasPrefix(s, "now"):
		t, math = now.UTC(), s[len("now"):]
	case strings.Contains(s, "||"):
		anchor, rest, _ := strings.Cut(s, "||")
		var err error
		if t, err = parseAnchor(s, anchor, false); err != nil {
			return 0, err
		}
		math = rest
	default:
		t, err := parseAnchor(s, s, roundUp)
		if err != nil {
			return 0, err
		}
		return t.UnixMilli(), nil
	}
	t, err := dateMath(s, math, t, roundUp)
	if err != nil {
		return 0, err
	}
	return t.UnixMilli(), nil
}

func dateError(s, why string) error {
	return queryErrorf("failed to parse date field [%s]: %s", s, why)
}

// dateMath applies +N, -N and /unit steps (JavaDateMathParser.parseMath). A step without a number counts one.
func dateMath(s, math string, t time.Time, roundUp bool) (time.Time, error) {
	for i := 0; i < len(math); {
		op := math[i]
		i++
		if op != '/' && op != '+' && op != '-' {
			return t, dateError(s, "date math supports +N, -N and / followed by a unit of y M w d h H m s")
		}
		if i >= len(math) {
			return t, dateError(s, "truncated date math ["+math+"]")
		}
		n := 1
		if start := i; math[i] >= '0' && math[i] <= '9' {
			for i < len(math) && math[i] >= '0' && math[i] <= '9' {
				i++
			}
			if i >= len(math) {
				return t, dateError(s, "truncated date math ["+math+"]")
			}
			v, err := strconv.Atoi(math[start:i])
			if err != nil {
				return t, dateError(s, "date math number out of range")
			}
			n = v
		}
		if op == '/' && n != 1 {
			return t, dateError(s, "rounding `/` can only be used on single unit types ["+math+"]")
		}
		unit := math[i]
		i++
		if !strings.ContainsRune("yMwdhHms", rune(unit)) {
			return t, dateError(s, "unit ["+string(unit)+"] not supported for date math ["+math+"]")
		}
		switch op {
		case '/':
			t = roundDate(t, unit, roundUp)
		case '+':
			t = addUnits(t, n, unit)
		default:
			t = addUnits(t, -n, unit)
		}
	}
	return t, nil
}

func addUnits(t time.Time, n int, unit byte) time.Time {
	switch unit {
	case 'y':
		return t.AddDate(n, 0, 0)
	case 'M':
		return t.AddDate(0, n, 0)
	case 'w':
		return t.AddDate(0, 0, 7*n)
	case 'd':
		return t.AddDate(0, 0, n)
	case 'h', 'H':
		return t.Add(time.Duration(n) * time.Hour)
	case 'm':
		return t.Add(time.Duration(n) * time.Minute)
	default:
		return t.Add(time.Duration(n) * time.Second)
	}
}

// roundDate rounds t down to the start of its unit (UTC, weeks from Monday), or up to the unit's last
// millisecond.
func roundDate(t time.Time, unit byte, roundUp bool) time.Time {
	t = t.UTC()
	y, mo, d := t.Date()
	var start time.Time
	var next func(time.Time) time.Time
	switch unit {
	case 'y':
		start, next = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }
	case 'M':
		start, next = time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC), func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	case 'w':
		start = time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
		start = start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7))
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 7) }
	case 'd':
		start, next = time.Date(y, mo, d, 0, 0, 0, 0, time.UTC), func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	default:
		step := map[byte]time.Duration{'h': time.Hour, 'H': time.Hour, 'm': time.Minute, 's': time.Second}[unit]
		start, next = t.Truncate(step), func(t time.Time) time.Time { return t.Add(step) }
	}
	if roundUp {
		return next(start).Add(-time.Millisecond)
	}
	return start
}

// parseAnchor reads a date without math, filling what it leaves out for rounding up or down.
func parseAnchor(s, anchor string, roundUp bool) (time.Time, error) {
	if m := isoDate.FindStringSubmatch(anchor); m != nil {
		return isoTime(s, m, roundUp)
	}
	if epochMillis.MatchString(anchor) {
		ms, err := strconv.ParseInt(anchor, 10, 64)
		if err != nil {
			return time.Time{}, dateError(s, "not a number of milliseconds")
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Time{}, dateError(s, "use a date such as 2024-04-17, 2024-04-17T10:30:00Z, epoch milliseconds or now-1d")
}

func isoTime(s string, m []string, roundUp bool) (time.Time, error) {
	num := func(i, down, up int) int {
		if m[i] == "" {
			if roundUp {
				return up
			}
			return down
		}
		n, _ := strconv.Atoi(m[i])
		return n
	}
	loc := time.UTC
	if zone := m[8]; zone != "" && zone != "Z" {
		zone = strings.ReplaceAll(zone, ":", "")
		h, _ := strconv.Atoi(zone[1:3])
		mins := 0
		if len(zone) == 5 {
			mins, _ = strconv.Atoi(zone[3:5])
		}
		offset := h*3600 + mins*60
		if zone[0] == '-' {
			offset = -offset
		}
		loc = time.FixedZone(zone, offset)
	}
	nanos := num(7, 0, 999_999_999)
	if m[7] != "" {
		nanos, _ = strconv.Atoi((m[7] + "00000000")[:9])
	}
	year, month, day := num(1, 0, 0), num(2, 1, 1), num(3, 1, 1)
	hour, minute, second := num(4, 0, 23), num(5, 0, 59), num(6, 0, 59)
	t := time.Date(year, time.Month(month), day, hour, minute, second, nanos, loc)
	if month < 1 || month > 12 || t.Day() != day || hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, dateError(s, "no such date")
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

// dateRange is a range over create_time as Elasticsearch's DateFieldType.rangeQuery builds it: an exclusive
// lower bound and an inclusive upper bound round up, and an exclusive bound moves by one millisecond.
func dateRange(lo, hi *string, includeLo, includeHi bool, now time.Time) (predicate, error) {
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if lo != nil {
		v, err := parseDate(*lo, now, !includeLo)
		if err != nil {
			return nil, err
		}
		from = v
		if !includeLo {
			from++
		}
	}
	if hi != nil {
		v, err := parseDate(*hi, now, includeHi)
		if err != nil {
			return nil, err
		}
		to = v
		if !includeHi {
			to--
		}
	}
	return func(e *entry) bool {
		ms := e.CreateTime.UnixMilli()
		return ms >= from && ms <= to
	}, nil
}
