import { FIELDS, fieldInfo } from './fields';
import { CBCQuery, FieldInfo, Filters } from './types';

/** The fields a builder filter can name: those criteria and exclusions take as lists (src/fields.json). */
export const FILTERABLE: FieldInfo[] = FIELDS.filter((f) => f.criteria && f.type !== 'boolean');

/**
 * Whether CBC cannot search a field, so that the plugin filters the records the search returns: country and
 * asn, worked out from the data source's GeoIP databases. Such a filter never becomes query text.
 */
export const filteredAfterSearch = (field: string): boolean => fieldInfo(field)?.type === 'derived';

/** What the editors say of a filter on such a field. */
export const AFTER_SEARCH_NOTE =
  "Country and network come from the data source's GeoIP databases. CBC cannot search them: the plugin filters the records the search returns, reading every match up to the data source's max records.";

/** One row of the filter builder: field is (or is not) one of the values. */
export interface FilterRow {
  field: string;
  op: 'is' | 'is not';
  values: string[];
}

const SIDES = [
  ['criteria', 'is'],
  ['exclusions', 'is not'],
] as const;

/** The query's list criteria and exclusions as builder rows: one per field and side, in the vocabulary's order. */
export function filterRows(query: Pick<CBCQuery, 'criteria' | 'exclusions'>): FilterRow[] {
  const rows: FilterRow[] = [];
  for (const [side, op] of SIDES) {
    for (const f of FILTERABLE) {
      const values = query[side]?.[f.name as keyof Filters];
      if (Array.isArray(values) && values.length > 0) {
        rows.push({ field: f.name, op, values });
      }
    }
  }
  return rows;
}

/**
 * The query with its list criteria and exclusions replaced by what rows say; flagged and verbose stay. Rows on
 * the same field and side join their values (a record matches a list when it matches any of its values).
 */
export function withRows<Q extends Pick<CBCQuery, 'criteria' | 'exclusions'>>(query: Q, rows: FilterRow[]): Q {
  const out = { ...query };
  for (const [side, op] of SIDES) {
    const { flagged, verbose } = query[side] ?? {};
    const filters: Filters = {};
    if (flagged !== undefined) {
      filters.flagged = flagged;
    }
    if (verbose !== undefined) {
      filters.verbose = verbose;
    }
    for (const row of rows.filter((r) => r.op === op)) {
      const list = ((filters as Record<string, string[]>)[row.field] ??= []);
      list.push(...row.values.filter((v) => v !== '' && !list.includes(v)));
    }
    out[side] = Object.keys(filters).length ? filters : undefined;
  }
  return out;
}

/** A short reading of the rows, for the code editor's note of what the builder also filters. */
export function describeRows(rows: FilterRow[]): string {
  return rows.map((r) => `${r.field} ${r.op} ${r.values.join(' or ')}`).join('; ');
}
