import { FILTER_FIELDS, FilterField, CBCQuery } from './types';

function isFilterField(key: string): key is FilterField {
  return (FILTER_FIELDS as readonly string[]).includes(key);
}

/** Whether the query already filters for (or, with exclude, against) key=value. */
export function queryHasFilter(query: CBCQuery, key: string, value: string, exclude = false): boolean {
  const side = exclude ? query.exclusions : query.criteria;
  if (isFilterField(key)) {
    return side?.[key]?.includes(value) ?? false;
  }
  if (key === 'flagged' || key === 'verbose') {
    return side?.[key] === (value === 'true');
  }
  return false;
}

/** Adds key=value to the criteria (or exclusions), or removes it when it is there; the other side loses it. */
export function toggleFilter(query: CBCQuery, key: string, value: string, exclude = false): CBCQuery {
  const add = exclude ? 'exclusions' : 'criteria';
  const remove = exclude ? 'criteria' : 'exclusions';
  const next: CBCQuery = { ...query, criteria: { ...query.criteria }, exclusions: { ...query.exclusions } };
  if (isFilterField(key)) {
    const had = next[add]![key] ?? [];
    next[add]![key] = had.includes(value) ? had.filter((v) => v !== value) : [...had, value];
    next[remove]![key] = (next[remove]![key] ?? []).filter((v) => v !== value);
  } else if (key === 'flagged' || key === 'verbose') {
    const want = value === 'true';
    next[add]![key] = next[add]![key] === want ? undefined : want;
    next[remove]![key] = undefined;
  }
  return next;
}
