import { DataSourceJsonData, TimeRange } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

import limits from './limits.json';

/** The query types the backend answers (pkg/models/query.go). */
export type QueryType = 'search' | 'count' | 'queue' | 'signals';

/** Record fields that criteria and exclusions take as lists of values. */
export const FILTER_FIELDS = ['actor', 'actor_ip', 'description', 'request_url', 'country', 'asn'] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

export const SORTABLE_FIELDS = [
  'create_time',
  'actor',
  'actor_ip',
  'description',
  'request_url',
  'flagged',
  'verbose',
] as const;
export type SortField = (typeof SORTABLE_FIELDS)[number];

export const GROUP_BY_FIELDS = ['actor', 'actor_ip', 'description', 'flagged', 'category', 'country', 'asn'] as const;
export type GroupBy = (typeof GROUP_BY_FIELDS)[number];

export type SortOrder = 'ASC' | 'DESC';

export interface Filters {
  actor?: string[];
  actor_ip?: string[];
  description?: string[];
  request_url?: string[];
  flagged?: boolean;
  verbose?: boolean;
  /** Where actor_ip is, by the data source's GeoIP databases: the plugin filters what the search returns. */
  country?: string[];
  asn?: string[];
}

/** How the query editor shows the search: filters chosen from lists, or the Lucene text. */
export type EditorMode = 'builder' | 'code';

export interface CBCQuery extends DataQuery {
  /** The editor's mode; the backend ignores it. */
  editorMode?: EditorMode;
  queryType?: QueryType;
  query?: string;
  criteria?: Filters;
  exclusions?: Filters;
  sort?: { field: SortField; order: SortOrder };
  /** A search's or the queue's logs or table; the security signals' findings table or findings over time. */
  format?: 'logs' | 'table' | 'time_series';
  limit?: number;
  groupBy?: GroupBy | '';
  interval?: string;
  topN?: number;
  /** The security signals' detection (src/detections.json); every detection when empty. */
  detection?: string;
  /** The detection's parameters, and the parts of the data source's profile this query sets, as text. */
  parameters?: Record<string, string>;
}

export const DEFAULT_LIMIT = limits.query.defaultLimit;
export const MAX_LIMIT = limits.query.maxLimit;

export const DEFAULT_QUERY: Partial<CBCQuery> = {
  queryType: 'search',
  query: '',
  format: 'logs',
  limit: DEFAULT_LIMIT,
};

/** Settings kept in jsonData (pkg/models/settings.go). */
export interface CBCOptions extends DataSourceJsonData {
  region?: string;
  url?: string;
  allowInsecureHttp?: boolean;
  orgKey?: string;
  /** How the plugin signs in; an API key when absent. */
  authType?: AuthType;
  apiId?: string;
  /** VMware Cloud Services, for OAuth apps and API tokens; https://console.cloud.vmware.com when absent. */
  cspUrl?: string;
  clientId?: string;
  timeoutSeconds?: number;
  concurrency?: number;
  maxRecords?: number;
  requestBudget?: number;
  cacheSeconds?: number;
  /** The history cache: on unless disabled (docs/history-cache.md). */
  disableHistoryCache?: boolean;
  settleMinutes?: number;
  alertSettleMinutes?: number;
  historyMaxAgeMinutes?: number;
  historyCacheMB?: number;
  /** Redis shared by several Grafana replicas; grafana.ini's [plugin.seed-cbcauditlogs-datasource] wins. */
  redisAddress?: string;
  redisTls?: boolean;
  redisKeyPrefix?: string;
  queuePollSeconds?: number;
  queueBackfillMinutes?: number;
  queueBufferSize?: number;
  queueBufferHours?: number;
  /** GeoIP databases (mmdb) on the Grafana host: where each actor_ip is. */
  geoipCityDatabase?: string;
  geoipAsnDatabase?: string;
  /** The organisation's profile, for the security signals (pkg/models/profile.go). */
  workingHours?: string;
  timeZone?: string;
  knownRanges?: string;
  baselineDays?: number;
}

/** Settings kept encrypted, never sent back to the browser. */
export interface CBCSecureJsonData {
  apiSecret?: string;
  clientSecret?: string;
  apiToken?: string;
  redisPassword?: string;
}

/** The three ways Carbon Black Cloud signs in, as the official SDK has them. */
export type AuthType = 'apiKey' | 'oauthApp' | 'apiToken';

export const CUSTOM_REGION = 'custom';

/** One field of the vocabulary (src/fields.json, which the backend embeds and serves as GET fields). */
export interface FieldInfo {
  name: string;
  label: string;
  type: 'date' | 'keyword' | 'text' | 'boolean' | 'derived';
  description: string;
  /** Criteria and exclusions take it: a list of values, or true/false for a boolean. */
  criteria: boolean;
  sort: boolean;
  groupBy: boolean;
  /** GET values lists its distinct values. */
  values: boolean;
}

/** An export job as the backend reports it (GET exports/{id}). */
export interface ExportStatus {
  id: number;
  status: 'CREATED' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  /** Absent while Carbon Black Cloud reports no progress yet: the job is working. */
  numTotal?: number;
  numCompleted?: number;
  message?: string;
  format: 'csv' | 'json';
}

/** What the export button needs of the data source: start a job, follow it, download its file. */
export interface ExportApi {
  startExport(query: CBCQuery, format: 'csv' | 'json', range: TimeRange): Promise<ExportStatus>;
  exportStatus(id: number): Promise<ExportStatus>;
  exportDownloadUrl(id: number): string;
}

/** What the query editor needs of the data source: suggested values, and exports. */
export interface EditorApi extends ExportApi {
  fieldValues(field: string, range?: TimeRange): Promise<string[]>;
}

/** The variable editor's query: the field whose distinct values the variable lists. */
export interface VariableQuery extends DataQuery {
  field: string;
}
