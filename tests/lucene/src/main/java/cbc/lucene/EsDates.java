package cbc.lucene;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Dates as Elasticsearch reads a date field's query values: the format strict_date_optional_time||epoch_millis
 * (DateFormatters), with date math (JavaDateMathParser). Rounding up fills the fields a date leaves out with
 * the round-up base fields of JavaDateFormatter: month and day 1, then 23:59:59.999.
 */
final class EsDates {
  private EsDates() {}

  private static final Pattern ISO = Pattern.compile(
      "(\\d{4})(?:-(\\d{2})(?:-(\\d{2})(?:T(\\d{2})(?::(\\d{2})(?::(\\d{2})(?:[.,](\\d{1,9}))?)?)?(Z|[+-]\\d{2}(?::?\\d{2})?)?)?)?)?");
  private static final Pattern EPOCH_MILLIS = Pattern.compile("-?\\d+");

  /** JavaDateMathParser.parse: epoch milliseconds of a date expression, rounded up or down. */
  static long parse(String text, long now, boolean roundUp) {
    ZonedDateTime time;
    String math;
    if (text.startsWith("now")) {
      time = Instant.ofEpochMilli(now).atZone(ZoneOffset.UTC);
      math = text.substring(3);
    } else {
      int i = text.indexOf("||");
      if (i < 0) {
        return parseDate(text, roundUp).toInstant().toEpochMilli();
      }
      time = parseDate(text.substring(0, i), false);
      math = text.substring(i + 2);
    }
    return parseMath(text, math, time, roundUp).toInstant().toEpochMilli();
  }

  private static IllegalArgumentException failure(String text, String why) {
    return new IllegalArgumentException("failed to parse date field [" + text + "]: " + why);
  }

  private static ZonedDateTime parseMath(String text, String math, ZonedDateTime time, boolean roundUp) {
    int i = 0;
    while (i < math.length()) {
      char c = math.charAt(i++);
      boolean round = false;
      int sign = 1;
      if (c == '/') {
        round = true;
      } else if (c == '-') {
        sign = -1;
      } else if (c != '+') {
        throw failure(text, "operator not supported for date math [" + math + "]");
      }
      if (i >= math.length()) {
        throw failure(text, "truncated date math [" + math + "]");
      }
      int num;
      if (!Character.isDigit(math.charAt(i))) {
        num = 1;
      } else {
        int from = i;
        while (i < math.length() && Character.isDigit(math.charAt(i))) {
          i++;
        }
        if (i >= math.length()) {
          throw failure(text, "truncated date math [" + math + "]");
        }
        num = Integer.parseInt(math.substring(from, i));
      }
      if (round && num != 1) {
        throw failure(text, "rounding `/` can only be used on single unit types [" + math + "]");
      }
      char unit = math.charAt(i++);
      switch (unit) {
        case 'y':
          time = round ? next(time.withDayOfYear(1).with(LocalTime.MIN), roundUp, ChronoUnit.YEARS) : time.plusYears(sign * num);
          break;
        case 'M':
          time = round ? next(time.withDayOfMonth(1).with(LocalTime.MIN), roundUp, ChronoUnit.MONTHS) : time.plusMonths(sign * num);
          break;
        case 'w':
          time = round
              ? next(time.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY)).with(LocalTime.MIN), roundUp, ChronoUnit.WEEKS)
              : time.plusWeeks(sign * num);
          break;
        case 'd':
          time = round ? next(time.with(LocalTime.MIN), roundUp, ChronoUnit.DAYS) : time.plusDays(sign * num);
          break;
        case 'h':
        case 'H':
          time = round ? next(time.truncatedTo(ChronoUnit.HOURS), roundUp, ChronoUnit.HOURS) : time.plusHours(sign * num);
          break;
        case 'm':
          time = round ? next(time.truncatedTo(ChronoUnit.MINUTES), roundUp, ChronoUnit.MINUTES) : time.plusMinutes(sign * num);
          break;
        case 's':
          time = round ? next(time.truncatedTo(ChronoUnit.SECONDS), roundUp, ChronoUnit.SECONDS) : time.plusSeconds(sign * num);
          break;
        default:
          throw failure(text, "unit [" + unit + "] not supported for date math [" + math + "]");
      }
    }
    return time;
  }

  /** Rounded up, a rounded time is the last millisecond of its unit. */
  private static ZonedDateTime next(ZonedDateTime start, boolean roundUp, ChronoUnit unit) {
    return roundUp ? start.plus(1, unit).minus(1, ChronoUnit.MILLIS) : start;
  }

  private static ZonedDateTime parseDate(String text, boolean roundUp) {
    Matcher m = ISO.matcher(text);
    if (m.matches()) {
      try {
        return iso(m, roundUp);
      } catch (java.time.DateTimeException e) {
        throw failure(text, e.getMessage());
      }
    }
    if (EPOCH_MILLIS.matcher(text).matches()) {
      try {
        return Instant.ofEpochMilli(Long.parseLong(text)).atZone(ZoneOffset.UTC);
      } catch (NumberFormatException e) {
        throw failure(text, "not a number of milliseconds");
      }
    }
    throw failure(text, "use strict_date_optional_time or epoch_millis");
  }

  private static int field(Matcher m, int group, int missing) {
    return m.group(group) == null ? missing : Integer.parseInt(m.group(group));
  }

  private static ZonedDateTime iso(Matcher m, boolean roundUp) {
    ZoneOffset zone = ZoneOffset.UTC;
    String z = m.group(8);
    if (z != null && !z.equals("Z")) {
      zone = ZoneOffset.of(z.length() == 5 ? z.substring(0, 3) + ":" + z.substring(3) : z);
    }
    int nanos;
    if (m.group(7) != null) {
      nanos = Integer.parseInt((m.group(7) + "00000000").substring(0, 9));
    } else {
      nanos = roundUp ? 999_999_999 : 0;
    }
    return ZonedDateTime.of(
        field(m, 1, 0),
        field(m, 2, 1),
        field(m, 3, 1),
        field(m, 4, roundUp ? 23 : 0),
        field(m, 5, roundUp ? 59 : 0),
        field(m, 6, roundUp ? 59 : 0),
        nanos,
        zone).truncatedTo(ChronoUnit.MILLIS);
  }
}
