import React, { useState } from 'react';
import { CoreApp, DataSourceApi, QueryEditorProps } from '@grafana/data';
import { EditorRow, EditorRows } from '@grafana/plugin-ui';
import { Text } from '@grafana/ui';

import { CBCOptions, CBCQuery, EditorApi, EditorMode } from '../types';
import { switchView } from '../views';
import { ExportButton } from './ExportButton';
import { MODES, modeOf, toMode } from './query/modes';
import { QueryHeader } from './query/QueryHeader';
import { QueryBody } from './query/QueryBody';
import { useQueryDraft } from './query/useQueryDraft';

type Props = Omit<QueryEditorProps<DataSourceApi<CBCQuery, CBCOptions>, CBCQuery, CBCOptions>, 'datasource'> & {
  datasource: EditorApi;
  /** Set by the annotations editor: annotations are searches shown as a table, so the modes do not apply. */
  context?: 'annotations';
};

/** The query editor: a header, then the editor of the query's type, and the export of a search. */
export function QueryEditor({ query, onChange, onRunQuery, datasource, range, app, context, data }: Props) {
  const lastRun = data?.request?.targets.find((t) => t.refId === query.refId) as CBCQuery | undefined;
  const draft = useQueryDraft(query, onChange, onRunQuery, lastRun);
  // Why the last switch between Builder and Code did not happen, until the next one.
  const [viewProblem, setViewProblem] = useState<string | undefined>();
  const alerting = app === CoreApp.UnifiedAlerting;
  const mode = modeOf(query);
  const editorMode: EditorMode = query.editorMode ?? (query.query ? 'code' : 'builder');
  // An alert rule needs numbers: a search or the live queue cannot alert, so only counts and signals are offered.
  const alertable = (m: string) => m === 'count' || m === 'signals';
  const offered = context === 'annotations' ? [] : MODES.filter((m) => !alerting || alertable(m.value));
  const input = {
    draft,
    editorMode,
    apply: (patch: Partial<CBCQuery>) => onChange({ ...query, ...patch }),
    runOnBlur: app !== CoreApp.Explore,
    datasource,
    range,
  };
  return (
    <EditorRows>
      <QueryHeader
        draft={draft}
        modes={offered}
        mode={mode}
        onMode={(m) => draft.change(toMode(query, m))}
        editorMode={editorMode}
        onEditorMode={(m) => {
          const switched = switchView({ ...query, query: draft.text }, m);
          setViewProblem('reason' in switched ? switched.reason : undefined);
          if ('query' in switched) {
            onChange(switched.query);
          }
        }}
      />
      {viewProblem && (
        <EditorRow>
          <Text color="warning" variant="bodySmall">
            {viewProblem}
          </Text>
        </EditorRow>
      )}
      {alerting && !alertable(mode) && (
        <EditorRow>
          <Text color="warning" variant="bodySmall">
            This query returns events, which an alert rule cannot evaluate: choose Count over time to alert on them.
          </Text>
        </EditorRow>
      )}
      {alerting && mode === 'signals' && query.format !== 'time_series' && (
        <EditorRow>
          <Text color="warning" variant="bodySmall">
            Findings are rows, which an alert rule cannot evaluate: choose the format Over time, one series per entity.
          </Text>
        </EditorRow>
      )}
      <QueryBody mode={mode} {...input} />
      {(mode === 'logs' || mode === 'table') && !alerting && context !== 'annotations' && (
        <EditorRow>
          <ExportButton exports={datasource} query={query} range={range} />
        </EditorRow>
      )}
    </EditorRows>
  );
}
