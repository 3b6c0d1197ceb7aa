import { fieldInfo, labelOf } from '../../fields';
import { CBCQuery, DEFAULT_LIMIT, SortOrder } from '../../types';

/** The words of a sort order that fit the field: newest first for a time, Z to A for text, true first for a flag. */
export function orderLabels(field: string): Record<SortOrder, string> {
  switch (fieldInfo(field)?.type) {
    case 'date':
      return { DESC: 'Newest first', ASC: 'Oldest first' };
    case 'boolean':
      return { DESC: 'True first', ASC: 'False first' };
    default:
      return { DESC: 'Z to A', ASC: 'A to Z' };
  }
}

/** The flags a query sets, in words. */
function flagWords(query: CBCQuery): string[] {
  return (['flagged', 'verbose'] as const)
    .filter((f) => query.criteria?.[f] !== undefined)
    .map((f) => `${labelOf(f)}: ${query.criteria?.[f] ? 'yes' : 'no'}`);
}

/** A search's options in one line, shown while they are collapsed. */
export function searchSummary(query: CBCQuery): string {
  const field = query.sort?.field ?? 'create_time';
  const order = query.sort?.order ?? 'DESC';
  return [
    `Sort: ${labelOf(field).toLowerCase()}, ${orderLabels(field)[order].toLowerCase()}`,
    `Limit ${query.limit ?? DEFAULT_LIMIT}`,
    ...flagWords(query),
  ].join(' · ');
}

/** A count's options in one line, shown while they are collapsed. */
export function countSummary(query: CBCQuery): string {
  return [
    `Group by: ${query.groupBy ? labelOf(query.groupBy) : 'nothing'}`,
    `Interval: ${query.interval || 'auto'}`,
    `Top: ${query.topN || 'all'}`,
    ...flagWords(query),
  ].join(' · ');
}
