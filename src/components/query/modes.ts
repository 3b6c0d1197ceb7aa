import { CBCQuery } from '../../types';

/** The editor's view of a query type: a search shown as logs or table, a count over time, or the live queue. */
export type Mode = 'logs' | 'table' | 'count' | 'queue' | 'signals';

export const MODES: Array<{ label: string; value: Mode; description: string }> = [
  { label: 'Logs', value: 'logs', description: 'Matching audit events as log lines' },
  { label: 'Table', value: 'table', description: 'Matching audit events, one column per field' },
  { label: 'Count over time', value: 'count', description: 'Events per interval, for charts and alert rules' },
  { label: 'Live queue', value: 'queue', description: 'New events as they arrive, streamed to the panel' },
  {
    label: 'Security signals',
    value: 'signals',
    description: 'Detections of attacks and risky administration, for tables and alert rules',
  },
];

export function modeOf(query: CBCQuery): Mode {
  if (query.queryType === 'count' || query.queryType === 'queue' || query.queryType === 'signals') {
    return query.queryType;
  }
  return query.format === 'table' ? 'table' : 'logs';
}

/** The change that switches a query to a mode. The query text, filters and sort stay for when the user switches
 * back from the live queue, which ignores them. */
export function toMode(query: CBCQuery, m: Mode): Partial<CBCQuery> {
  const searchFormat = query.format === 'table' ? 'table' : 'logs';
  switch (m) {
    case 'count':
      return { queryType: 'count', format: undefined };
    case 'queue':
      return { queryType: 'queue', format: searchFormat };
    case 'signals':
      return { queryType: 'signals', format: 'table' };
    default:
      return { queryType: 'search', format: m };
  }
}
