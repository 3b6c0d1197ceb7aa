import { FILTERABLE, filteredAfterSearch, filterRows, FilterRow, withRows } from './filters';
import { luceneTerm } from './lucene';
import { CBCQuery, EditorMode } from './types';

/**
 * Builder and Code are two views of one query. Builder → Code writes the builder's rows into the Lucene text;
 * Code → Builder reads the text back into rows when every clause is a filter the builder can hold, and otherwise
 * says why the query stays in Code. Neither direction drops anything: where it cannot keep all, it does not
 * switch. Filters on country and asn, which CBC cannot search, stay filters in both views.
 */

/** A dashboard variable, kept bare so that Grafana can interpolate it ($var, ${var}, ${var:format}, [[var]]). */
const VARIABLE = /^(\$\{[^}]*\}|\$\w+|\[\[[^\]]*\]\])$/;

/** A value as a Lucene term of the field: a phrase for the description, whose criteria match as phrases. */
function term(field: string, value: string): string {
  if (VARIABLE.test(value)) {
    return value;
  }
  return field === 'description' ? `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"` : luceneTerm(value);
}

/** One row as a clause: field:value, or field:(a OR b), with NOT for "is not". */
export function rowClause(row: FilterRow): string {
  const values = row.values.map((v) => term(row.field, v));
  const clause = `${row.field}:${values.length === 1 ? values[0] : `(${values.join(' OR ')})`}`;
  return row.op === 'is' ? clause : `NOT ${clause}`;
}

/** The query text with the rows written in: each row a clause, joined to the text and each other by AND. */
export function textWithRows(text: string, rows: FilterRow[]): string {
  const clauses = rows.map(rowClause);
  const current = text.trim();
  if (current === '') {
    return clauses.join(' AND ');
  }
  return clauses.length === 0 ? current : [`(${current})`, ...clauses].join(' AND ');
}

type Token = { kind: 'word' | 'phrase' | '(' | ')'; text: string; at: number };

/** Splits text into words, quoted phrases and parentheses; a backslash keeps the next character in its word. */
function tokens(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      out.push({ kind: c, text: c, at: i++ });
    } else if (c === '"') {
      const start = i++;
      let value = '';
      while (i < text.length && text[i] !== '"') {
        value += text[i] === '\\' && i + 1 < text.length ? text[++i] : text[i];
        i++;
      }
      if (i >= text.length) {
        throw new ViewError('a quoted phrase that is not closed', start);
      }
      i++;
      out.push({ kind: 'phrase', text: value, at: start });
    } else {
      const start = i;
      let word = '';
      while (i < text.length && !/[\s()"]/.test(text[i])) {
        word += text[i] === '\\' && i + 1 < text.length ? text[i++] + text[i] : text[i];
        i++;
      }
      out.push({ kind: 'word', text: word, at: start });
    }
  }
  return out;
}

class ViewError extends Error {
  constructor(
    readonly what: string,
    readonly at: number
  ) {
    super(what);
  }
}

const AND = /^(AND|&&)$/;
const OR = /^(OR|\|\|)$/;
const NOT = /^(NOT|!)$/;

/** A bare value: no wildcard, pattern, range, fuzziness or boost, which the builder's whole values cannot hold. */
function bareValue(t: Token): string {
  if (/(^|[^\\])[*?~^/[\]{}<>=+!:]/.test(t.text) || /^(AND|OR|NOT|TO)$/.test(t.text)) {
    if (VARIABLE.test(t.text)) {
      return t.text;
    }
    throw new ViewError(`"${t.text}", a pattern or an operator where the builder needs a whole value`, t.at);
  }
  return t.text.replace(/\\(.)/g, '$1');
}

/** The rows that text means, when every clause is a field filter the builder can hold; otherwise a ViewError. */
function parseRows(text: string): FilterRow[] {
  const ts = tokens(text);
  const rows: FilterRow[] = [];
  let i = 0;
  const next = () => ts[i++];
  while (i < ts.length) {
    if (rows.length > 0 && ts[i].kind === 'word' && AND.test(ts[i].text)) {
      i++;
    } else if (rows.length > 0 && ts[i].kind === 'word' && OR.test(ts[i].text)) {
      throw new ViewError('OR between filters, where the builder joins its rows with AND', ts[i].at);
    }
    let t = next();
    let op: FilterRow['op'] = 'is';
    if (t?.kind === 'word' && (NOT.test(t.text) || t.text === '-')) {
      op = 'is not';
      t = next();
    } else if (t?.kind === 'word' && /^[-!]./.test(t.text)) {
      op = 'is not';
      t = { ...t, text: t.text.slice(1), at: t.at + 1 };
    }
    if (t?.kind === '(') {
      throw new ViewError('a group of clauses', t.at);
    }
    if (!t || t.kind !== 'word' || !/^[a-z_]+:/.test(t.text)) {
      throw new ViewError(
        t ? 'a term without a field, which searches every field' : 'an operator without a filter',
        t?.at ?? text.length
      );
    }
    const [field, rest] = [t.text.slice(0, t.text.indexOf(':')), t.text.slice(t.text.indexOf(':') + 1)];
    if (filteredAfterSearch(field)) {
      throw new ViewError(`${field}, which CBC cannot search (use the builder's ${field} filter)`, t.at);
    }
    if (!FILTERABLE.some((f) => f.name === field)) {
      throw new ViewError(`${field}, which the builder has no filter for (flagged and verbose are options)`, t.at);
    }
    let values: string[];
    if (rest !== '') {
      values = [bareValue({ ...t, text: rest })];
    } else {
      values = valueList(ts, i, (n) => (i = n));
    }
    if (op === 'is' && rows.some((r) => r.field === field && r.op === 'is')) {
      throw new ViewError(`two filters on ${field} joined by AND, where one row's values are alternatives`, t.at);
    }
    const same = rows.find((r) => r.field === field && r.op === op);
    if (same) {
      same.values.push(...values.filter((v) => !same.values.includes(v))); // NOT a AND NOT b: leave out both
    } else {
      rows.push({ field, op, values });
    }
  }
  return rows;
}

/** The value after `field:` at ts[i]: a phrase, a word, or a group of them joined by OR. */
function valueList(ts: Token[], i: number, moved: (i: number) => void): string[] {
  const t = ts[i];
  if (!t) {
    throw new ViewError('a field without a value', Infinity);
  }
  if (t.kind === 'phrase') {
    moved(i + 1);
    return [t.text];
  }
  if (t.kind !== '(') {
    throw new ViewError('a field without a value', t.at);
  }
  const values: string[] = [];
  for (i++; i < ts.length && ts[i].kind !== ')'; i++) {
    const v = ts[i];
    if (values.length > 0) {
      if (v.kind !== 'word' || !OR.test(v.text)) {
        throw new ViewError('values joined by something other than OR', v.at);
      }
      i++;
    }
    const value = ts[i];
    if (!value || value.kind === '(' || value.kind === ')') {
      throw new ViewError('a group inside a group', value?.at ?? v.at);
    }
    values.push(value.kind === 'phrase' ? value.text : bareValue(value));
  }
  if (ts[i]?.kind !== ')') {
    throw new ViewError('a group that is not closed', t.at);
  }
  moved(i + 1);
  return values;
}

/** The outcome of switching views: the query to show, or why it stays as it is. */
export type Switched = { query: CBCQuery } | { reason: string };

/** The query switched to the Builder or the Code view. */
export function switchView(query: CBCQuery, mode: EditorMode): Switched {
  const rows = filterRows(query);
  if (mode === 'code') {
    const [kept, written] = [
      rows.filter((r) => filteredAfterSearch(r.field)),
      rows.filter((r) => !filteredAfterSearch(r.field)),
    ];
    return { query: withRows({ ...query, editorMode: 'code', query: textWithRows(query.query ?? '', written) }, kept) };
  }
  const text = query.query ?? '';
  let parsed: FilterRow[];
  try {
    parsed = parseRows(text);
  } catch (e) {
    if (!(e instanceof ViewError)) {
      throw e;
    }
    const where = Number.isFinite(e.at) ? ` at character ${e.at + 1}` : '';
    return {
      reason: `The query stays in Code: it has ${e.what}${where}. The builder holds filters such as actor:(a OR b) AND NOT actor_ip:x.`,
    };
  }
  for (const row of parsed) {
    if (row.op === 'is' && rows.some((r) => r.field === row.field && r.op === 'is')) {
      return { reason: `The query stays in Code: the text and the filters both ask for ${row.field}.` };
    }
  }
  return { query: { ...withRows(query, [...rows, ...parsed]), editorMode: 'builder', query: '' } };
}
