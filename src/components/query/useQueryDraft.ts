import { CBCQuery, DEFAULT_LIMIT } from '../../types';
import { QueryProblems, queryProblems } from '../../validation';
import { useDraft } from '../useDraft';

/** The query options typed in boxes: kept as typed until applied. */
export type TypedOption = 'limit' | 'interval' | 'topN';

/** What the editor holds: the query as applied, what the boxes hold, and how to apply or run it. */
export interface QueryDraft {
  query: CBCQuery;
  text: string;
  setText: (v: string) => void;
  /** Each typed option's box: its text and its setter. */
  typed: Record<TypedOption, [string, (v: string) => void]>;
  /** The query with what the boxes hold; the query the Run button would run. */
  drafted: CBCQuery;
  /** The typed options as the query holds them, with their defaults. */
  applied: Record<TypedOption, CBCQuery[TypedOption]>;
  problems: QueryProblems;
  invalid: boolean;
  /** The boxes hold something the panel's results do not reflect yet. */
  stale: boolean;
  /** Applies a change; runs it when the whole query can run (the backend would refuse it otherwise). */
  change: (patch: Partial<CBCQuery>) => void;
  /** Applies what the boxes hold, with overrides, and runs it, unless a problem shows next to its field. */
  run: (overrides?: Partial<CBCQuery>) => void;
}

/** What decides a query's results, with the defaults filled in: two queries with the same key return the same. */
function resultsKey(q: CBCQuery): string {
  return JSON.stringify([
    q.queryType ?? 'search',
    q.query ?? '',
    q.criteria ?? {},
    q.exclusions ?? {},
    q.sort ?? null,
    q.format ?? 'logs',
    q.limit ?? DEFAULT_LIMIT,
    q.groupBy ?? '',
    q.interval ?? '',
    q.topN ?? 0,
    q.detection ?? '',
    q.parameters ?? {},
  ]);
}

/**
 * The editor's state over query. lastRun is the query the panel's results come from (Grafana's last request),
 * when known: while the query differs from it, the results are stale and Run query says so.
 */
export function useQueryDraft(
  query: CBCQuery,
  onChange: (q: CBCQuery) => void,
  onRunQuery: () => void,
  lastRun?: CBCQuery
): QueryDraft {
  const [text, setText] = useDraft(query.query ?? '');
  const limit = useDraft(String(query.limit ?? DEFAULT_LIMIT));
  const interval = useDraft(query.interval ?? '');
  const top = useDraft(query.topN ? String(query.topN) : '');
  const drafted: CBCQuery = {
    ...query,
    query: text,
    limit: limit[0].trim() === '' ? undefined : Number(limit[0]),
    interval: interval[0].trim(),
    topN: top[0].trim() === '' ? 0 : Number(top[0]),
  };
  const applied = { limit: query.limit ?? DEFAULT_LIMIT, interval: query.interval ?? '', topN: query.topN ?? 0 };
  const problems = queryProblems(drafted);
  const stale =
    (lastRun !== undefined && resultsKey(drafted) !== resultsKey(lastRun)) ||
    text !== (query.query ?? '') ||
    drafted.limit !== applied.limit ||
    drafted.interval !== applied.interval ||
    drafted.topN !== applied.topN;
  const change = (patch: Partial<CBCQuery>) => {
    const next = { ...query, ...patch };
    onChange(next);
    if (Object.keys(queryProblems(next)).length === 0) {
      onRunQuery();
    }
  };
  const run = (overrides: Partial<CBCQuery> = {}) => {
    const next = { ...drafted, ...overrides };
    if (Object.keys(queryProblems(next)).length > 0) {
      return;
    }
    onChange(next);
    onRunQuery();
  };
  return {
    query,
    text,
    setText,
    typed: { limit, interval, topN: top },
    drafted,
    applied,
    problems,
    invalid: Object.keys(problems).length > 0,
    stale,
    change,
    run,
  };
}
