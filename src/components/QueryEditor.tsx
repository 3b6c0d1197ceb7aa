import React, { useState } from 'react';
import { QueryEditorProps } from '@grafana/data';
import { EditorField, EditorRow, EditorRows } from '@grafana/plugin-ui';
import { Combobox, Input, RadioButtonGroup, Stack, Text } from '@grafana/ui';

import { DataSource } from '../datasource';
import { ExportButton } from './ExportButton';
import { FilterChips } from './FilterChips';
import {
  CBCOptions,
  CBCQuery,
  DEFAULT_LIMIT,
  FILTER_FIELDS,
  FilterField,
  Filters,
  GROUP_BY_FIELDS,
  GroupBy,
  MAX_LIMIT,
  SORTABLE_FIELDS,
  SortField,
  SortOrder,
} from '../types';

type Props = QueryEditorProps<DataSource, CBCQuery, CBCOptions>;

/** The editor's view of a query type: a search shown as logs or table, or a count over time. */
type Mode = 'logs' | 'table' | 'count' | 'queue';

const modes: Array<{ label: string; value: Mode; description: string }> = [
  { label: 'Logs', value: 'logs', description: 'Matching audit events as log lines' },
  { label: 'Table', value: 'table', description: 'Matching audit events, one column per field' },
  { label: 'Count over time', value: 'count', description: 'Events per interval, for charts and alert rules' },
  { label: 'Live queue', value: 'queue', description: 'New events as they arrive, streamed to the panel' },
];

const tristate: Array<{ label: string; value: string }> = [
  { label: 'Any', value: 'any' },
  { label: 'Yes', value: 'true' },
  { label: 'No', value: 'false' },
];

const fieldLabels: Record<FilterField, string> = {
  actor: 'Actor',
  actor_ip: 'Actor IP',
  description: 'Description',
  request_url: 'Request URL',
};

export function modeOf(query: CBCQuery): Mode {
  if (query.queryType === 'count' || query.queryType === 'queue') {
    return query.queryType;
  }
  return query.format === 'table' ? 'table' : 'logs';
}

/**
 * useDraft keeps what the user is typing in a box, and follows the query when it changes from outside (Explore's
 * history, the query library, a JSON edit, a variable editor): the box never shows, nor writes back, a stale value.
 */
function useDraft(value: string): [string, (v: string) => void] {
  const [draft, setDraft] = useState(value);
  const [followed, setFollowed] = useState(value);
  if (followed !== value) {
    // The query changed from outside: adjust during render, as React advises for state derived from props.
    setFollowed(value);
    setDraft(value);
  }
  return [draft, setDraft];
}

export function QueryEditor({ query, onChange, onRunQuery, datasource, range }: Props) {
  const [text, setText] = useDraft(query.query ?? '');
  const [limit, setLimit] = useDraft(String(query.limit ?? DEFAULT_LIMIT));
  const [interval, setIntervalDraft] = useDraft(query.interval ?? '');
  const [top, setTop] = useDraft(query.topN ? String(query.topN) : '');
  const mode = modeOf(query);

  const change = (patch: Partial<CBCQuery>) => {
    onChange({ ...query, ...patch });
    onRunQuery();
  };
  const setFilter = (side: 'criteria' | 'exclusions', patch: Partial<Filters>) =>
    change({ [side]: { ...query[side], ...patch } });
  const setMode = (m: Mode) => {
    switch (m) {
      case 'count':
        return change({ queryType: 'count' });
      case 'queue':
        // The query text, filters and sort stay in the query for when the user switches back; the queue ignores them.
        return change({ queryType: 'queue', format: 'logs' });
      default:
        return change({ queryType: 'search', format: m });
    }
  };
  const boolValue = (v?: boolean) => (v === undefined ? 'any' : String(v));
  const toBool = (v: string) => (v === 'any' ? undefined : v === 'true');
  const limitNumber = Number(limit);
  const limitInvalid = !Number.isInteger(limitNumber) || limitNumber < 1 || limitNumber > MAX_LIMIT;

  return (
    <EditorRows>
      <EditorRow>
        <EditorField label="Query type">
          <RadioButtonGroup<Mode> options={modes} value={mode} onChange={setMode} size="sm" />
        </EditorField>
      </EditorRow>
      {mode === 'queue' && (
        <EditorRow>
          <Text variant="bodySmall" color="secondary">
            Every new audit event, read from this credential&apos;s queue by the data source (never by the panel, so
            viewers do not take events from one another) and streamed to the panel as it arrives.
          </Text>
        </EditorRow>
      )}
      {mode !== 'queue' && (
        <>
          <EditorRow>
            <EditorField
              label="Query"
              width="100%"
              tooltip='Lucene: field:value, field:"a phrase", AND / OR / NOT, parentheses, field:(a OR b), * and ? wildcards, /regex/, ranges such as create_time:[now-1d TO now]. A bare word searches the description and the actor, IP, URL and org key.'
            >
              <Stack direction="column" gap={0.5}>
                <Input
                  id="query-text"
                  aria-label="Query"
                  value={text}
                  placeholder='description:"Login failed" AND NOT actor_ip:10.*'
                  onChange={(e) => setText(e.currentTarget.value)}
                  onBlur={() => text !== (query.query ?? '') && change({ query: text })}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') {
                      change({ query: text });
                    }
                  }}
                />
                <Text variant="bodySmall" color="secondary">
                  Examples: description:&quot;Login failed&quot; · flagged:true · actor:alice* · &quot;api key&quot; OR
                  connector. Press Enter to run.
                </Text>
              </Stack>
            </EditorField>
          </EditorRow>
          {(['criteria', 'exclusions'] as const).map((side) => (
            <EditorRow key={side}>
              {FILTER_FIELDS.map((field) => (
                <EditorField key={field} label={`${side === 'criteria' ? 'Include' : 'Exclude'} ${fieldLabels[field]}`}>
                  <FilterChips
                    id={`${side}-${field}`}
                    values={query[side]?.[field] ?? []}
                    placeholder="Any"
                    loadOptions={() => datasource.fieldValues(field, range)}
                    onChange={(values) => setFilter(side, { [field]: values.length ? values : undefined })}
                  />
                </EditorField>
              ))}
            </EditorRow>
          ))}
          <EditorRow>
            <EditorField label="Flagged" tooltip="Security-relevant events, such as failed logins.">
              <RadioButtonGroup
                options={tristate}
                size="sm"
                value={boolValue(query.criteria?.flagged)}
                onChange={(v) => setFilter('criteria', { flagged: toBool(v) })}
              />
            </EditorField>
            <EditorField label="Verbose">
              <RadioButtonGroup
                options={tristate}
                size="sm"
                value={boolValue(query.criteria?.verbose)}
                onChange={(v) => setFilter('criteria', { verbose: toBool(v) })}
              />
            </EditorField>
            {mode !== 'count' && (
              <>
                <EditorField label="Sort by">
                  <Combobox<SortField>
                    id="sort-field"
                    width={20}
                    options={SORTABLE_FIELDS.map((f) => ({ label: f, value: f }))}
                    value={query.sort?.field ?? 'create_time'}
                    onChange={(o) => change({ sort: { field: o.value, order: query.sort?.order ?? 'DESC' } })}
                  />
                </EditorField>
                <EditorField label="Order">
                  <RadioButtonGroup<SortOrder>
                    size="sm"
                    options={[
                      { label: 'Newest / Z-A', value: 'DESC' },
                      { label: 'Oldest / A-Z', value: 'ASC' },
                    ]}
                    value={query.sort?.order ?? 'DESC'}
                    onChange={(order) => change({ sort: { field: query.sort?.field ?? 'create_time', order } })}
                  />
                </EditorField>
                <EditorField label="Limit" invalid={limitInvalid} error={`A number from 1 to ${MAX_LIMIT}`}>
                  <Input
                    id="query-limit"
                    type="number"
                    width={12}
                    value={limit}
                    onChange={(e) => setLimit(e.currentTarget.value)}
                    onBlur={() => !limitInvalid && limitNumber !== query.limit && change({ limit: limitNumber })}
                  />
                </EditorField>
              </>
            )}
            {mode === 'count' && (
              <>
                <EditorField label="Group by">
                  <Combobox<GroupBy | ''>
                    id="group-by"
                    width={20}
                    options={[{ label: 'Nothing', value: '' }, ...GROUP_BY_FIELDS.map((f) => ({ label: f, value: f }))]}
                    value={query.groupBy ?? ''}
                    onChange={(o) => change({ groupBy: o.value })}
                  />
                </EditorField>
                <EditorField label="Interval" tooltip="Bucket width, e.g. 5m or 1h. Empty: Grafana's interval.">
                  <Input
                    id="count-interval"
                    width={10}
                    value={interval}
                    placeholder="auto"
                    onChange={(e) => setIntervalDraft(e.currentTarget.value)}
                    onBlur={() => interval.trim() !== (query.interval ?? '') && change({ interval: interval.trim() })}
                  />
                </EditorField>
                <EditorField
                  label="Top"
                  tooltip="Keep the N biggest groups and sum the rest into 'other'. Empty: all groups."
                >
                  <Input
                    id="count-top"
                    type="number"
                    width={10}
                    value={top}
                    placeholder="all"
                    onChange={(e) => setTop(e.currentTarget.value)}
                    onBlur={() => {
                      const n = Math.max(0, Number(top) || 0);
                      if (n !== (query.topN ?? 0)) {
                        change({ topN: n });
                      }
                    }}
                  />
                </EditorField>
              </>
            )}
          </EditorRow>
        </>
      )}
      {(mode === 'logs' || mode === 'table') && (
        <EditorRow>
          <ExportButton datasource={datasource} query={query} range={range} />
        </EditorRow>
      )}
    </EditorRows>
  );
}
