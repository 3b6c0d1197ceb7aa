import { AdHocVariableFilter, ScopedVars } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

import { luceneTerm } from './lucene';
import { CBCQuery, FILTER_FIELDS, FilterField, Filters } from './types';

/** Replaces variables in each value; a multi-value variable becomes one value per selection. */
function interpolateList(
  values: string[] | undefined,
  templateSrv: TemplateSrv,
  scopedVars: ScopedVars
): string[] | undefined {
  if (!values) {
    return values;
  }
  const out = values.flatMap((v) => {
    const replaced = templateSrv.replace(v, scopedVars, (value: string | string[]) =>
      Array.isArray(value) ? JSON.stringify(value) : JSON.stringify([value])
    );
    if (replaced === v) {
      return [v];
    }
    try {
      const parsed = JSON.parse(replaced);
      return Array.isArray(parsed) ? parsed.map(String) : [replaced];
    } catch {
      return [replaced];
    }
  });
  return out.filter((v) => v !== '');
}

function interpolateFilters(
  filters: Filters | undefined,
  templateSrv: TemplateSrv,
  scopedVars: ScopedVars
): Filters | undefined {
  if (!filters) {
    return filters;
  }
  const out: Filters = { ...filters };
  for (const field of FILTER_FIELDS) {
    out[field] = interpolateList(filters[field], templateSrv, scopedVars);
  }
  return out;
}

/** A variable's or filter's value in the query text; a * in it stays a wildcard. */
const luceneValue = (value: string) => luceneTerm(value, true);

/** Turns ad hoc filters into criteria (=) and exclusions (!=); keys CBC cannot filter become query terms. */
export function applyAdHocFilters(query: CBCQuery, filters: AdHocVariableFilter[]): CBCQuery {
  let out = { ...query, criteria: { ...query.criteria }, exclusions: { ...query.exclusions } };
  const terms: string[] = [];
  for (const f of filters) {
    const include = f.operator === '=';
    if (!include && f.operator !== '!=') {
      continue;
    }
    if ((FILTER_FIELDS as readonly string[]).includes(f.key)) {
      const side = include ? out.criteria : out.exclusions;
      const field = f.key as FilterField;
      side[field] = [...(side[field] ?? []), f.value];
    } else if (f.key === 'flagged' || f.key === 'verbose') {
      const side = include ? out.criteria : out.exclusions;
      side[f.key] = f.value === 'true';
    } else {
      terms.push(`${include ? '' : 'NOT '}${f.key}:${luceneValue(f.value)}`);
    }
  }
  if (terms.length > 0) {
    out.query = [query.query ? `(${query.query})` : '', ...terms].filter(Boolean).join(' AND ');
  }
  return out;
}

/** Interpolates variables in the query text and in every chip. */
export function interpolateQuery(query: CBCQuery, templateSrv: TemplateSrv, scopedVars: ScopedVars): CBCQuery {
  return {
    ...query,
    query: templateSrv.replace(query.query ?? '', scopedVars, luceneFormat),
    criteria: interpolateFilters(query.criteria, templateSrv, scopedVars),
    exclusions: interpolateFilters(query.exclusions, templateSrv, scopedVars),
    ...(query.parameters && {
      parameters: Object.fromEntries(
        Object.entries(query.parameters).map(([name, value]) => [name, templateSrv.replace(value, scopedVars)])
      ),
    }),
  };
}

/** A multi-value variable in the query text becomes (a OR b). */
function luceneFormat(value: string | string[]): string {
  if (Array.isArray(value)) {
    return value.length === 1 ? luceneValue(value[0]) : `(${value.map(luceneValue).join(' OR ')})`;
  }
  return luceneValue(value);
}
