import { QUERY_LIMITS, SETTING_LIMITS, SettingLimit } from './limits';
import { luceneSyntax, SyntaxProblem } from './lucene';
import regions from './regions.json';
import { CBCOptions, CBCQuery, MAX_LIMIT } from './types';

/**
 * The backend's rules (pkg/models Validate and ParseQuery), checked in the editors before anything is sent, so
 * that each problem shows next to the field at fault. The backend checks again: these only spare a round trip.
 */

export const MAX_TOP_N = QUERY_LIMITS.maxTopN;
const MAX_INTERVAL_MS = QUERY_LIMITS.maxIntervalDays * 24 * 3600 * 1000;

/** Dashboard variables ($var, ${var:format}, [[var]]) stand for values the query text does not have yet. */
const VARIABLE = /\$\{[^}]*\}|\$\w+|\[\[[^\]]*\]\]/g;

/** The first Lucene syntax error of text, with its position and maybe its fix; undefined when the text parses. */
export function syntaxProblem(text: string): SyntaxProblem | undefined {
  // A variable becomes a plain term of the same length, so that offsets stay those of the text the user sees.
  return luceneSyntax(text.replace(VARIABLE, (m) => 'x'.repeat(m.length)));
}

/** intervalMs reads a bucket width as the backend does (30s, 5m, 1h30m, 1d, 2w); undefined when malformed. */
export function intervalMs(text: string): number | undefined {
  const s = text.trim();
  const days = /^(\d+)([dw])$/.exec(s);
  if (days) {
    return Number(days[1]) * (days[2] === 'd' ? 1 : 7) * 24 * 3600 * 1000;
  }
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s)) {
    return undefined;
  }
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  let total = 0;
  for (const [, n, , u] of s.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(n) * unit[u];
  }
  return total;
}

export type QueryProblems = Partial<Record<'query' | 'limit' | 'interval' | 'topN', string>>;

/** Every problem of a query the editor holds, by the field at fault. */
export function queryProblems(q: Pick<CBCQuery, 'query' | 'limit' | 'interval' | 'topN' | 'queryType'>): QueryProblems {
  const out: QueryProblems = {};
  if (q.queryType === 'queue' || q.queryType === 'signals') {
    return out; // the live queue and the signals ignore the search fields
  }
  const syntax = syntaxProblem(q.query ?? '');
  if (syntax) {
    out.query = `${syntax.message} (at character ${syntax.offset + 1})`;
  }
  if (q.limit !== undefined && (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_LIMIT)) {
    out.limit = `Limit must be a whole number from 1 to ${MAX_LIMIT}; export more.`;
  }
  if (q.interval) {
    const ms = intervalMs(q.interval);
    if (ms === undefined || ms <= 0) {
      out.interval = 'Use a width such as 30s, 5m, 1h or 1d.';
    } else if (ms > MAX_INTERVAL_MS) {
      out.interval = `At most ${QUERY_LIMITS.maxIntervalDays}d.`;
    }
  }
  if (q.topN !== undefined && (!Number.isInteger(q.topN) || q.topN < 0 || q.topN > MAX_TOP_N)) {
    out.topN = `A whole number from 0 (every group) to ${MAX_TOP_N}.`;
  }
  return out;
}

export type SettingsProblems = Partial<Record<keyof CBCOptions, string>>;

const ORG_KEY = /^[A-Za-z0-9]{1,32}$/;
const DAY = '(sun|mon|tue|wed|thu|fri|sat)[a-z]*';
const CLOCK = '([01]\\d|2[0-3]):[0-5]\\d|24:00';
const WORKING_HOURS = new RegExp(`^${DAY}(-${DAY})?(,${DAY}(-${DAY})?)* (${CLOCK})-(${CLOCK})$`, 'i');
/** An IPv4 or IPv6 address, with an optional prefix length: the backend checks it exactly. */
const RANGE = /^([0-9.]+|[0-9a-f:.]+)(\/\d{1,3})?$/i;

/** Every problem of the settings the config editor holds, by setting. Empty values take defaults. */
export function settingsProblems(o: CBCOptions): SettingsProblems {
  const out: SettingsProblems = {};
  if (o.region === 'custom') {
    out.url = urlProblem(o.url ?? '', o.allowInsecureHttp ?? false);
  } else if (o.region && !regions.some((r) => r.id === o.region)) {
    out.region = 'Unknown region: pick one from the list or choose a custom URL.';
  }
  const orgKey = (o.orgKey ?? '').trim();
  if (orgKey !== '' && !ORG_KEY.test(orgKey)) {
    out.orgKey = 'Letters and digits only, e.g. ABCD1234.';
  }
  const apiId = (o.apiId ?? '').trim();
  if ((o.authType ?? 'apiKey') === 'apiKey' && apiId !== '' && !ORG_KEY.test(apiId)) {
    out.apiId = 'Letters and digits only, e.g. ABCDEFGHIJ.';
  }
  const redis = (o.redisAddress ?? '').trim();
  if (redis !== '' && !/^[^\s:/]+:\d{1,5}$/.test(redis)) {
    out.redisAddress = 'host:port, e.g. redis:6379';
  }
  const hours = (o.workingHours ?? '').trim();
  if (hours !== '' && !WORKING_HOURS.test(hours)) {
    out.workingHours = 'Days and hours, e.g. Mon-Fri 08:00-18:00 or Mon,Wed,Fri 09:00-17:00.';
  }
  const ranges = (o.knownRanges ?? '').split(/[\s,]+/).filter((r) => r !== '');
  const badRange = ranges.find((r) => !RANGE.test(r));
  if (badRange) {
    out.knownRanges = `${badRange} is not an address or CIDR range, such as 203.0.113.0/24.`;
  }
  for (const [key, limit] of Object.entries(SETTING_LIMITS) as Array<[keyof CBCOptions, SettingLimit]>) {
    const v = o[key] as number | undefined;
    if (v === undefined) {
      continue;
    }
    if (!Number.isInteger(v) || v < 0) {
      out[key] = 'A whole number, not negative; leave it empty for the default.';
    } else if (v > 0 && limit.min !== undefined && v < limit.min) {
      out[key] = `At least ${limit.min}.`;
    } else if (v > limit.max) {
      out[key] = `At most ${limit.max}.`;
    }
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as SettingsProblems;
}

function urlProblem(raw: string, allowPlainHttp: boolean): string | undefined {
  const text = raw.trim().replace(/\/+$/, '');
  if (text === '') {
    return undefined; // required: the field's own marker says so
  }
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return 'Not a URL: expected e.g. https://defense.conferdeploy.net';
  }
  if (u.protocol === 'http:' && !allowPlainHttp) {
    return 'Carbon Black Cloud is served over HTTPS; plain HTTP needs "Allow plain HTTP" (the simulator, a local proxy).';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    return 'Must start with https://';
  }
  if (u.search || u.hash || (u.pathname !== '' && u.pathname !== '/')) {
    return 'The console host only, without a path or query.';
  }
  return undefined;
}
