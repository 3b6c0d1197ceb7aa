import {
  AdHocVariableFilter,
  AnnotationEvent,
  CoreApp,
  CustomVariableSupport,
  DataQueryResponse,
  DataFrame,
  DataQueryRequest,
  DataSourceInstanceSettings,
  DataSourceWithSupplementaryQueriesSupport,
  MetricFindValue,
  QueryFixAction,
  ScopedVars,
  SupplementaryQueryOptions,
  SupplementaryQueryType,
  TimeRange,
} from '@grafana/data';
import { from, map, Observable, of } from 'rxjs';
import { config, DataSourceWithBackend, getTemplateSrv, TemplateSrv } from '@grafana/runtime';

import { VariableQueryEditor } from './components/VariableQueryEditor';

import { applyAdHocFilters, interpolateQuery } from './interpolate';
import { queryHasFilter, toggleFilter } from './modifyQuery';
import { AnnotationQueryEditor } from './components/AnnotationQueryEditor';
import { FIELDS } from './fields';
import { CBCOptions, CBCQuery, DEFAULT_QUERY, ExportStatus, FieldInfo, VariableQuery } from './types';

export type { ExportStatus, FieldInfo, VariableQuery };

/** Dashboard variables: the distinct values of one field over the dashboard's time range. */
export class VariableSupport extends CustomVariableSupport<DataSource, VariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: DataSource) {
    super();
  }

  query(request: DataQueryRequest<VariableQuery>): Observable<DataQueryResponse> {
    return from(this.datasource.metricFindQuery(request.targets[0], { range: request.range })).pipe(
      map((data) => ({ data }))
    );
  }
}

/** Annotations from audit events: the description as text, the actor and category as tags. */
export function framesToAnnotations(frames: DataFrame[]): AnnotationEvent[] {
  const events: AnnotationEvent[] = [];
  for (const frame of frames) {
    const column = (name: string) => frame.fields.find((f) => f.name === name)?.values;
    const times = column('create_time');
    if (!times) {
      continue;
    }
    const descriptions = column('description') ?? [];
    const actors = column('actor') ?? [];
    const categories = column('category') ?? [];
    for (let i = 0; i < frame.length; i++) {
      events.push({
        time: Number(times[i]),
        text: String(descriptions[i] ?? ''),
        tags: [actors[i], categories[i]].filter(Boolean).map(String),
      });
    }
  }
  return events;
}

export class DataSource
  extends DataSourceWithBackend<CBCQuery, CBCOptions>
  implements DataSourceWithSupplementaryQueriesSupport<CBCQuery>
{
  constructor(
    instanceSettings: DataSourceInstanceSettings<CBCOptions>,
    private readonly templateSrv: TemplateSrv = getTemplateSrv()
  ) {
    super(instanceSettings);
    this.variables = new VariableSupport(this);
    this.annotations = {
      QueryEditor: AnnotationQueryEditor,
      prepareQuery: (anno) =>
        ({ ...DEFAULT_QUERY, ...anno.target, refId: 'Anno', queryType: 'search', format: 'table' }) as CBCQuery,
      processEvents: (_anno, frames) => of(framesToAnnotations(frames)),
    };
  }

  /** Explore's logs volume: the same search counted over time. */
  getSupportedSupplementaryQueryTypes(): SupplementaryQueryType[] {
    return [SupplementaryQueryType.LogsVolume];
  }

  getSupplementaryQuery(options: SupplementaryQueryOptions, query: CBCQuery): CBCQuery | undefined {
    if (
      options.type !== SupplementaryQueryType.LogsVolume ||
      query.hide ||
      (query.queryType ?? 'search') !== 'search'
    ) {
      return undefined;
    }
    return {
      ...query,
      refId: `log-volume-${query.refId}`,
      queryType: 'count',
      groupBy: '',
      topN: 0,
      interval: '',
      sort: undefined,
    };
  }

  getSupplementaryRequest(
    type: SupplementaryQueryType,
    request: DataQueryRequest<CBCQuery>
  ): DataQueryRequest<CBCQuery> | undefined {
    const targets = request.targets
      .map((q) => this.getSupplementaryQuery({ type }, q))
      .filter((q): q is CBCQuery => q !== undefined);
    return targets.length ? { ...request, targets } : undefined;
  }

  /** A new query: a search shown as logs, or in an alert rule a count, the only type that alerts on. */
  getDefaultQuery(app: CoreApp): Partial<CBCQuery> {
    return app === CoreApp.UnifiedAlerting ? { ...DEFAULT_QUERY, queryType: 'count' } : DEFAULT_QUERY;
  }

  filterQuery(query: CBCQuery): boolean {
    return !query.hide;
  }

  applyTemplateVariables(query: CBCQuery, scopedVars: ScopedVars, filters?: AdHocVariableFilter[]): CBCQuery {
    const interpolated = interpolateQuery(query, this.templateSrv, scopedVars);
    return filters?.length ? applyAdHocFilters(interpolated, filters) : interpolated;
  }

  /** Distinct values of a record field over the time range, most frequent first (the backend's values resource). */
  async fieldValues(field: string, range?: TimeRange): Promise<string[]> {
    const params: Record<string, string> = { field };
    if (range) {
      params.from = String(range.from.valueOf());
      params.to = String(range.to.valueOf());
    }
    return this.getResource<string[]>('values', params);
  }

  /**
   * Dashboard variables: the query is a field name (actor, actor_ip, description, request_url, category or
   * flagged); the values are its distinct values over the dashboard's time range.
   */
  async metricFindQuery(query: VariableQuery | string, options?: { range?: TimeRange }): Promise<MetricFindValue[]> {
    const field = this.templateSrv.replace(typeof query === 'string' ? query : (query?.field ?? '')).trim();
    if (!field) {
      return [];
    }
    const values = await this.fieldValues(field, options?.range);
    return values.map((text) => ({ text }));
  }

  /** Starts a CBC export of the query (variables interpolated) over the time range. */
  async startExport(query: CBCQuery, format: 'csv' | 'json', range: TimeRange): Promise<ExportStatus> {
    const { refId, datasource, ...model } = this.applyTemplateVariables(query, {});
    return this.postResource<ExportStatus>('exports', {
      query: model,
      format,
      from: range.from.valueOf(),
      to: range.to.valueOf(),
    });
  }

  async exportStatus(id: number): Promise<ExportStatus> {
    return this.getResource<ExportStatus>(`exports/${id}`);
  }

  /** Where the browser downloads a completed export; the backend streams the file through. */
  exportDownloadUrl(id: number): string {
    return `${config.appSubUrl ?? ''}/api/datasources/uid/${this.uid}/resources/exports/${id}/download`;
  }

  /** Ad hoc filters: the fields criteria take (lists and booleans), from the vocabulary. */
  async getTagKeys(): Promise<MetricFindValue[]> {
    return FIELDS.filter((f) => f.criteria).map((f) => ({ text: f.name }));
  }

  async getTagValues(options: { key: string; timeRange?: TimeRange }): Promise<MetricFindValue[]> {
    if (options.key === 'flagged' || options.key === 'verbose') {
      return [{ text: 'true' }, { text: 'false' }];
    }
    const values = await this.fieldValues(options.key, options.timeRange);
    return values.map((text) => ({ text }));
  }

  /** Explore's "filter for value" / "filter out value" in log details. */
  toggleQueryFilter(
    query: CBCQuery,
    filter: { type: 'FILTER_FOR' | 'FILTER_OUT'; options: { key: string; value: string } }
  ): CBCQuery {
    return toggleFilter(query, filter.options.key, filter.options.value, filter.type === 'FILTER_OUT');
  }

  queryHasFilter(query: CBCQuery, filter: { key: string; value: string }): boolean {
    return queryHasFilter(query, filter.key, filter.value);
  }

  modifyQuery(query: CBCQuery, action: QueryFixAction): CBCQuery {
    const { key, value } = action.options ?? {};
    if (!key || value === undefined) {
      return query;
    }
    switch (action.type) {
      case 'ADD_FILTER':
        return queryHasFilter(query, key, value) ? query : toggleFilter(query, key, value);
      case 'ADD_FILTER_OUT':
        return queryHasFilter(query, key, value, true) ? query : toggleFilter(query, key, value, true);
      default:
        return query;
    }
  }
}
