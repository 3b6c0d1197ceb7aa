import React, { KeyboardEvent } from 'react';
import { CoreApp, QueryEditorProps } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { EditorField, EditorHeader, EditorRow, EditorRows, FlexItem } from '@grafana/plugin-ui';
import { Button, Combobox, Input, LinkButton, RadioButtonGroup, Stack, Text } from '@grafana/ui';

import { DataSource } from '../datasource';
import fields from '../fields.json';
import { describeRows, filterRows, withRows } from '../filters';
import { CBCOptions, CBCQuery, DEFAULT_LIMIT, EditorMode, FieldInfo, GroupBy, SortField, SortOrder } from '../types';
import { queryProblems } from '../validation';
import { ExportButton } from './ExportButton';
import { FilterBuilder } from './FilterBuilder';
import { LuceneEditor } from './LuceneEditor';
import { OptionsGroup } from './OptionsGroup';
import { useDraft } from './useDraft';

type Props = QueryEditorProps<DataSource, CBCQuery, CBCOptions> & {
  /** Set by the annotations editor: annotations are searches shown as a table, so the modes do not apply. */
  context?: 'annotations';
};

/** The editor's view of a query type: a search shown as logs or table, a count over time, or the live queue. */
type Mode = 'logs' | 'table' | 'count' | 'queue';

const modes: Array<{ label: string; value: Mode; description: string }> = [
  { label: 'Logs', value: 'logs', description: 'Matching audit events as log lines' },
  { label: 'Table', value: 'table', description: 'Matching audit events, one column per field' },
  { label: 'Count over time', value: 'count', description: 'Events per interval, for charts and alert rules' },
  { label: 'Live queue', value: 'queue', description: 'New events as they arrive, streamed to the panel' },
];

export const SYNTAX_DOCS =
  'https://developer.carbonblack.com/reference/carbon-black-cloud/platform/latest/audit-log-api/#search-audit-logs';

const vocabulary = fields as FieldInfo[];
const labelOf = (name: string) => vocabulary.find((f) => f.name === name)?.label ?? name;

const tristate: Array<{ label: string; value: string }> = [
  { label: 'Any', value: 'any' },
  { label: 'Yes', value: 'true' },
  { label: 'No', value: 'false' },
];

/** The words of a sort order that fit the field: newest first for a time, Z to A for text, true first for a flag. */
export function orderLabels(field: string): Record<SortOrder, string> {
  switch (vocabulary.find((f) => f.name === field)?.type) {
    case 'date':
      return { DESC: 'Newest first', ASC: 'Oldest first' };
    case 'boolean':
      return { DESC: 'True first', ASC: 'False first' };
    default:
      return { DESC: 'Z to A', ASC: 'A to Z' };
  }
}

function modeOf(query: CBCQuery): Mode {
  if (query.queryType === 'count' || query.queryType === 'queue') {
    return query.queryType;
  }
  return query.format === 'table' ? 'table' : 'logs';
}

export function QueryEditor({ query, onChange, onRunQuery, datasource, range, app, context }: Props) {
  const [text, setText] = useDraft(query.query ?? '');
  const [limit, setLimit] = useDraft(String(query.limit ?? DEFAULT_LIMIT));
  const [interval, setIntervalDraft] = useDraft(query.interval ?? '');
  const [top, setTop] = useDraft(query.topN ? String(query.topN) : '');
  const alerting = app === CoreApp.UnifiedAlerting;
  const mode = modeOf(query);
  const editorMode: EditorMode = query.editorMode ?? (query.query ? 'code' : 'builder');
  const rows = filterRows(query);

  // What the boxes hold now, typed but perhaps not applied yet; the query the Run button would run.
  const drafted: CBCQuery = {
    ...query,
    query: text,
    limit: limit.trim() === '' ? undefined : Number(limit),
    interval: interval.trim(),
    topN: top.trim() === '' ? 0 : Number(top),
  };
  const problems = queryProblems(drafted);
  // The options as the query holds them, with their defaults.
  const applied = { limit: query.limit ?? DEFAULT_LIMIT, interval: query.interval ?? '', topN: query.topN ?? 0 };
  const invalid = Object.keys(problems).length > 0;
  const stale =
    text !== (query.query ?? '') ||
    drafted.limit !== applied.limit ||
    drafted.interval !== applied.interval ||
    drafted.topN !== applied.topN;

  /** Applies a change; runs it when the whole query can run (the backend would refuse it otherwise). */
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
      return; // each problem shows next to its field
    }
    onChange(next);
    onRunQuery();
  };
  /** A typed option: shown as typed, checked in place, applied on leaving the box and run on Enter. */
  const option = (o: {
    key: 'limit' | 'interval' | 'topN';
    label: string;
    tooltip?: string;
    id: string;
    type?: 'number';
    width: number;
    placeholder?: string;
    value: string;
    set: (v: string) => void;
  }) => (
    <EditorField label={o.label} tooltip={o.tooltip} invalid={Boolean(problems[o.key])} error={problems[o.key]}>
      <Input
        id={o.id}
        type={o.type}
        width={o.width}
        placeholder={o.placeholder}
        value={o.value}
        onChange={(e) => o.set(e.currentTarget.value)}
        onBlur={() => !problems[o.key] && drafted[o.key] !== applied[o.key] && change({ [o.key]: drafted[o.key] })}
        onKeyDown={(e: KeyboardEvent<HTMLInputElement>) => e.key === 'Enter' && run()}
      />
    </EditorField>
  );
  const setMode = (m: Mode) => {
    switch (m) {
      case 'count':
        return change({ queryType: 'count' });
      case 'queue':
        // The query text, filters and sort stay in the query for when the user switches back; the queue ignores them.
        return change({ queryType: 'queue', format: query.format ?? 'logs' });
      default:
        return change({ queryType: 'search', format: m });
    }
  };
  const offered = modes.filter((m) => !alerting || m.value !== 'queue');
  const boolValue = (v?: boolean) => (v === undefined ? 'any' : String(v));
  const toBool = (v: string) => (v === 'any' ? undefined : v === 'true');
  const sortField = query.sort?.field ?? 'create_time';
  const sortOrder = query.sort?.order ?? 'DESC';
  const flags = (['flagged', 'verbose'] as const)
    .filter((f) => query.criteria?.[f] !== undefined)
    .map((f) => `${labelOf(f)}: ${query.criteria?.[f] ? 'yes' : 'no'}`);
  const summary = [
    ...(mode === 'count'
      ? [
          `Group by: ${query.groupBy ? labelOf(query.groupBy) : 'nothing'}`,
          `Interval: ${query.interval || 'auto'}`,
          `Top: ${query.topN || 'all'}`,
        ]
      : [
          `Sort: ${labelOf(sortField).toLowerCase()}, ${orderLabels(sortField)[sortOrder].toLowerCase()}`,
          `Limit ${query.limit ?? DEFAULT_LIMIT}`,
        ]),
    ...flags,
  ].join(' · ');
  const values = (field: string) =>
    datasource.fieldValues(field, range).then((found) => [...found, ...variables().map((v) => `$${v}`)]);

  return (
    <EditorRows>
      <EditorHeader>
        {context !== 'annotations' && (
          <RadioButtonGroup<Mode> aria-label="Query type" options={offered} value={mode} onChange={setMode} size="sm" />
        )}
        <FlexItem grow={1} />
        {mode !== 'queue' && (
          <>
            <LinkButton
              size="sm"
              variant="secondary"
              fill="text"
              icon="book"
              href={SYNTAX_DOCS}
              target="_blank"
              rel="noreferrer"
            >
              Query syntax
            </LinkButton>
            <RadioButtonGroup<EditorMode>
              aria-label="Editor mode"
              size="sm"
              options={[
                { label: 'Builder', value: 'builder', description: 'Filters by field, chosen from lists' },
                { label: 'Code', value: 'code', description: 'The Lucene query text, with completion' },
              ]}
              value={editorMode}
              onChange={(m) => onChange({ ...query, editorMode: m })}
            />
          </>
        )}
        <Button
          size="sm"
          icon="play"
          variant={stale ? 'primary' : 'secondary'}
          disabled={invalid}
          tooltip={invalid ? 'Fix the problems shown first' : undefined}
          onClick={() => run()}
        >
          Run query
        </Button>
      </EditorHeader>
      {mode === 'queue' && (
        <EditorRow>
          <Text variant="bodySmall" color="secondary">
            Every new audit event, read from this credential&apos;s queue by the data source (never by the panel, so
            viewers do not take events from one another) and streamed to the panel as it arrives. The search fields are
            kept for when you switch back, and do not apply here.
          </Text>
        </EditorRow>
      )}
      {mode !== 'queue' && editorMode === 'code' && (
        <EditorRow>
          <Stack direction="column" gap={0.5} grow={1}>
            <LuceneEditor
              value={query.query ?? ''}
              source={{ values, variables }}
              onChange={(q) => onChange({ ...query, query: q })}
              onRun={(q) => {
                setText(q);
                run({ query: q });
              }}
            />
            <Text variant="bodySmall" color="secondary">
              {rows.length > 0
                ? `The builder's filters also apply: ${describeRows(rows)}.`
                : 'Lucene, e.g. description:"Login failed" AND NOT actor_ip:10.* — Ctrl+Space completes, Shift+Enter runs.'}
            </Text>
          </Stack>
        </EditorRow>
      )}
      {mode !== 'queue' && editorMode === 'builder' && (
        <EditorRow>
          <Stack direction="column" gap={1} grow={1}>
            <FilterBuilder rows={rows} values={values} onChange={(r) => change(withRows(query, r))} />
            {query.query && (
              <Text variant="bodySmall" color="secondary">
                The query text also applies: {query.query} (edit it in Code).
              </Text>
            )}
          </Stack>
        </EditorRow>
      )}
      <EditorRow>
        <OptionsGroup summary={mode === 'queue' ? `Format: ${query.format ?? 'logs'}` : summary} open={invalid}>
          {mode === 'queue' ? (
            <EditorField label="Format">
              <RadioButtonGroup<'logs' | 'table'>
                aria-label="Format"
                size="sm"
                options={[
                  { label: 'Logs', value: 'logs' },
                  { label: 'Table', value: 'table' },
                ]}
                value={query.format ?? 'logs'}
                onChange={(format) => change({ format })}
              />
            </EditorField>
          ) : (
            <Stack gap={2} wrap="wrap" alignItems="flex-start">
              <EditorField label="Flagged" tooltip="Security-relevant events, such as failed logins.">
                <RadioButtonGroup
                  aria-label="Flagged"
                  options={tristate}
                  size="sm"
                  value={boolValue(query.criteria?.flagged)}
                  onChange={(v) => change({ criteria: { ...query.criteria, flagged: toBool(v) } })}
                />
              </EditorField>
              <EditorField label="Verbose" tooltip="Routine events that Carbon Black Cloud marks as detail.">
                <RadioButtonGroup
                  aria-label="Verbose"
                  options={tristate}
                  size="sm"
                  value={boolValue(query.criteria?.verbose)}
                  onChange={(v) => change({ criteria: { ...query.criteria, verbose: toBool(v) } })}
                />
              </EditorField>
              {mode !== 'count' && (
                <>
                  <EditorField label="Sort by">
                    <Combobox<SortField>
                      id="sort-field"
                      width={18}
                      options={vocabulary
                        .filter((f) => f.sort)
                        .map((f) => ({ label: f.label, value: f.name as SortField }))}
                      value={sortField}
                      onChange={(o) => change({ sort: { field: o.value, order: sortOrder } })}
                    />
                  </EditorField>
                  <EditorField label="Order">
                    <RadioButtonGroup<SortOrder>
                      aria-label="Order"
                      size="sm"
                      options={(['DESC', 'ASC'] as const).map((o) => ({ label: orderLabels(sortField)[o], value: o }))}
                      value={sortOrder}
                      onChange={(order) => change({ sort: { field: sortField, order } })}
                    />
                  </EditorField>
                  {option({
                    key: 'limit',
                    label: 'Limit',
                    id: 'query-limit',
                    type: 'number',
                    width: 12,
                    value: limit,
                    set: setLimit,
                  })}
                </>
              )}
              {mode === 'count' && (
                <>
                  <EditorField label="Group by">
                    <Combobox<GroupBy | ''>
                      id="group-by"
                      width={18}
                      options={[
                        { label: 'Nothing', value: '' },
                        ...vocabulary
                          .filter((f) => f.groupBy)
                          .map((f) => ({ label: f.label, value: f.name as GroupBy })),
                      ]}
                      value={query.groupBy ?? ''}
                      onChange={(o) => change({ groupBy: o.value })}
                    />
                  </EditorField>
                  {option({
                    key: 'interval',
                    label: 'Interval',
                    tooltip: "Bucket width, e.g. 5m or 1h. Empty: Grafana's interval.",
                    id: 'count-interval',
                    width: 10,
                    placeholder: 'auto',
                    value: interval,
                    set: setIntervalDraft,
                  })}
                  {option({
                    key: 'topN',
                    label: 'Top',
                    tooltip: "Keep the N biggest groups and sum the rest into 'other'. Empty: all groups.",
                    id: 'count-top',
                    type: 'number',
                    width: 10,
                    placeholder: 'all',
                    value: top,
                    set: setTop,
                  })}
                </>
              )}
            </Stack>
          )}
        </OptionsGroup>
      </EditorRow>
      {(mode === 'logs' || mode === 'table') && !alerting && context !== 'annotations' && (
        <EditorRow>
          <ExportButton datasource={datasource} query={query} range={range} />
        </EditorRow>
      )}
    </EditorRows>
  );
}

/** The dashboard's variables, offered as values. */
function variables(): string[] {
  try {
    return getTemplateSrv()
      .getVariables()
      .map((v) => v.name);
  } catch {
    return []; // outside Grafana (tests, the browser check) there is no template service
  }
}
