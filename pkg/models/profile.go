package models

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Profile is what the security signals know of the organisation: when it works, which addresses are its own,
// and how far back "usual" reaches. The data source settings set it; a signals query may override each part.
type Profile struct {
	Hours       WorkingHours
	KnownRanges []netip.Prefix
	Baseline    time.Duration
}

// Defaults of the organisation's profile.
const (
	DefaultWorkingHours = "Mon-Fri 07:00-19:00"
	DefaultTimeZone     = "UTC"
)

// Profile reads the settings' working hours, time zone, known ranges and baseline days.
func (s Settings) Profile() (Profile, error) {
	hours, hoursErr := ParseWorkingHours(s.WorkingHours, s.TimeZone)
	ranges, rangesErr := ParseRanges(s.KnownRanges)
	return Profile{Hours: hours, KnownRanges: ranges, Baseline: time.Duration(s.number("baselineDays")) * 24 * time.Hour},
		errors.Join(hoursErr, rangesErr)
}

// Known says whether an address is in one of the organisation's own ranges.
func (p Profile) Known(ip string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	for _, r := range p.KnownRanges {
		if r.Contains(addr.Unmap()) {
			return true
		}
	}
	return false
}

// WorkingHours are the days and hours the organisation works, in its time zone. From after To spans midnight.
type WorkingHours struct {
	Days     [7]bool // by time.Weekday
	From, To time.Duration
	Location *time.Location
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseWorkingHours reads days and hours such as "Mon-Fri 08:00-18:00" or "Mon,Wed,Fri 09:00-17:00" in an IANA
// time zone such as Europe/Berlin; empty values take the defaults.
func ParseWorkingHours(spec, zone string) (WorkingHours, error) {
	spec, zone = strings.TrimSpace(spec), strings.TrimSpace(zone)
	if spec == "" {
		spec = DefaultWorkingHours
	}
	if zone == "" {
		zone = DefaultTimeZone
	}
	var w WorkingHours
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return w, fmt.Errorf("time zone %q is unknown: use an IANA name such as UTC, Europe/Berlin or America/New_York", zone)
	}
	w.Location = loc
	malformed := fmt.Errorf("working hours %q are malformed: write days and hours, e.g. Mon-Fri 08:00-18:00", spec)
	days, hours, ok := strings.Cut(spec, " ")
	if !ok {
		return w, malformed
	}
	for _, part := range strings.Split(days, ",") {
		first, last, isRange := strings.Cut(strings.ToLower(strings.TrimSpace(part)), "-")
		if !isRange {
			last = first
		}
		a, b := dayIndex(first), dayIndex(last)
		if a < 0 || b < 0 {
			return w, malformed
		}
		for d := a; ; d = (d + 1) % 7 {
			w.Days[d] = true
			if d == b {
				break
			}
		}
	}
	from, to, ok := strings.Cut(strings.TrimSpace(hours), "-")
	if !ok {
		return w, malformed
	}
	if w.From, err = clock(from); err != nil {
		return w, malformed
	}
	if w.To, err = clock(to); err != nil || w.To == w.From {
		return w, malformed
	}
	return w, nil
}

func dayIndex(name string) int {
	for i, d := range weekdays {
		if len(name) >= 3 && strings.HasPrefix(d, name[:3]) && strings.HasPrefix(name, d) {
			return i
		}
	}
	return -1
}

func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		if strings.TrimSpace(s) == "24:00" {
			return 24 * time.Hour, nil
		}
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Contains says whether t falls in working hours. Hours that span midnight belong to the day they start on.
func (w WorkingHours) Contains(t time.Time) bool {
	local := t.In(w.Location)
	since := time.Duration(local.Hour())*time.Hour + time.Duration(local.Minute())*time.Minute + time.Duration(local.Second())*time.Second
	if w.From < w.To {
		return w.Days[local.Weekday()] && since >= w.From && since < w.To
	}
	if since >= w.From {
		return w.Days[local.Weekday()]
	}
	return since < w.To && w.Days[(local.Weekday()+6)%7]
}

// ParseRanges reads address ranges in CIDR notation, or single addresses, separated by commas, spaces or lines.
func ParseRanges(spec string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r' }) {
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		addr, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("known range %q is malformed: use CIDR notation such as 203.0.113.0/24, or one address", part)
		}
		out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return out, nil
}
