import { parse } from 'lucene';

import limits from './limits.json';
import regions from './regions.json';
import { CBCOptions, CBCQuery, MAX_LIMIT } from './types';

/**
 * The backend's rules (pkg/models Validate and ParseQuery), checked in the editors before anything is sent, so
 * that each problem shows next to the field at fault. The backend checks again: these only spare a round trip.
 */

export const MAX_TOP_N = 1000;
const MAX_INTERVAL_MS = 366 * 24 * 3600 * 1000;

/** A problem in the query text: its message and where it is (an offset into the text). */
export interface SyntaxProblem {
  message: string;
  offset: number;
}

/** Dashboard variables ($var, ${var:format}, [[var]]) stand for values the query text does not have yet. */
const VARIABLE = /\$\{[^}]*\}|\$\w+|\[\[[^\]]*\]\]/g;

/** The first Lucene syntax error of text, with its position; undefined when the text parses. */
export function syntaxProblem(text: string): SyntaxProblem | undefined {
  const plain = forParser(text);
  if (plain.trim() === '') {
    return undefined;
  }
  try {
    parse(plain);
  } catch (e) {
    const err = e as { found?: string | null; location?: { start: { offset: number } } };
    const offset = err.location?.start.offset ?? 0;
    return { message: describe(plain, err.found ?? null), offset };
  }
  // The parser drops an operator with nothing on one side ("actor:x AND"); CBC refuses such a query.
  return strayOperator(plain);
}

/** Writes x over a match, keeping its length so that offsets stay those of the text the user sees. */
const blank = (m: string) => 'x'.repeat(m.length);

/**
 * The text as the npm parser can read it. Variables become terms, and so do the parts of CBC's language the
 * parser refuses although CBC accepts them: regexes with escapes (actor:/a\.b/), date math rounding
 * (create_time:>=now/d, [now/d TO now]), quoted range bounds and boosted groups ((a OR b)^2).
 */
function forParser(text: string): string {
  return text
    .replace(VARIABLE, blank)
    .replace(/(^|[\s(:!+-])\/(?:\\.|[^/\\])*\//g, (m, lead: string) => lead + blank(m.slice(lead.length)))
    .replace(/([[{])([^\]}]*)([\]}])/g, (_, open: string, bounds: string, close: string) => {
      return open + bounds.replace(/"[^"]*"|[^\s"]+/g, (b) => (b === 'TO' ? b : blank(b))) + close;
    })
    .replace(/(:\s*[<>]=?)("[^"]*"|[^\s()"]+)/g, (_, op: string, value: string) => op + blank(value))
    .replace(/\)\^[\d.]+/g, (m) => ')' + ' '.repeat(m.length - 1));
}

const BINARY = new Set(['AND', 'OR', '&&', '||']);
const UNARY = new Set(['NOT', '!']);

/** An AND, OR or NOT without a term on the side it needs one, in text forParser wrote; phrases are skipped. */
function strayOperator(text: string): SyntaxProblem | undefined {
  const blanked = text.replace(/\\./g, 'xx').replace(/"[^"]*"/g, blank);
  const tokens = [...blanked.matchAll(/[()]|[^\s()]+/g)].map((m) => ({ text: m[0], offset: m.index ?? 0 }));
  for (const [i, t] of tokens.entries()) {
    if (!BINARY.has(t.text) && !UNARY.has(t.text)) {
      continue;
    }
    const before = tokens[i - 1]?.text;
    const after = tokens[i + 1]?.text;
    if (BINARY.has(t.text) && (before === undefined || before === '(' || BINARY.has(before) || UNARY.has(before))) {
      return { message: `${t.text} needs a term before it: add one or remove ${t.text}`, offset: t.offset };
    }
    if (after === undefined) {
      return { message: `The query ends with ${t.text}: add a term after it or remove it`, offset: t.offset };
    }
    if (after === ')') {
      return { message: `${t.text} needs a term after it: add one or remove ${t.text}`, offset: t.offset };
    }
  }
  return undefined;
}

function describe(text: string, found: string | null): string {
  const quotes = (text.match(/(^|[^\\])"/g) ?? []).length;
  if (quotes % 2 === 1) {
    return 'A quoted phrase is not closed: add the closing "';
  }
  const open = (text.match(/(^|[^\\])\(/g) ?? []).length;
  const close = (text.match(/(^|[^\\])\)/g) ?? []).length;
  if (open > close) {
    return 'A parenthesis is not closed: add )';
  }
  if (close > open) {
    return 'A ) closes nothing: remove it or add (';
  }
  if (found === null) {
    return 'The query ends too early: finish the last term or range';
  }
  return `Unexpected ${JSON.stringify(found)}: escape it with \\ or put the value in quotes`;
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
  if (q.queryType === 'queue') {
    return out; // the live queue ignores the search fields
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
      out.interval = 'At most 366d.';
    }
  }
  if (q.topN !== undefined && (!Number.isInteger(q.topN) || q.topN < 0 || q.topN > MAX_TOP_N)) {
    out.topN = `A whole number from 0 (every group) to ${MAX_TOP_N}.`;
  }
  return out;
}

export type SettingsProblems = Partial<Record<keyof CBCOptions, string>>;

const ORG_KEY = /^[A-Za-z0-9]{1,32}$/;

/** Bounds of the numeric settings: the file the backend's Validate embeds (pkg/models/limits.json). */
export const SETTING_LIMITS = limits as Partial<Record<keyof CBCOptions, { min?: number; max: number }>>;

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
  for (const [key, limit] of Object.entries(SETTING_LIMITS) as Array<
    [keyof CBCOptions, { min?: number; max: number }]
  >) {
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
