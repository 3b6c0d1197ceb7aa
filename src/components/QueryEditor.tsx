import React from 'react';
import { CoreApp, DataSourceApi, QueryEditorProps } from '@grafana/data';
import { EditorRow, EditorRows } from '@grafana/plugin-ui';

import { CBCOptions, CBCQuery, EditorApi, EditorMode } from '../types';
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
export function QueryEditor({ query, onChange, onRunQuery, datasource, range, app, context }: Props) {
  const draft = useQueryDraft(query, onChange, onRunQuery);
  const alerting = app === CoreApp.UnifiedAlerting;
  const mode = modeOf(query);
  const editorMode: EditorMode = query.editorMode ?? (query.query ? 'code' : 'builder');
  const offered = context === 'annotations' ? [] : MODES.filter((m) => !alerting || m.value !== 'queue');
  const input = {
    draft,
    editorMode,
    apply: (patch: Partial<CBCQuery>) => onChange({ ...query, ...patch }),
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
        onEditorMode={(m) => onChange({ ...query, editorMode: m })}
      />
      <QueryBody mode={mode} {...input} />
      {(mode === 'logs' || mode === 'table') && !alerting && context !== 'annotations' && (
        <EditorRow>
          <ExportButton exports={datasource} query={query} range={range} />
        </EditorRow>
      )}
    </EditorRows>
  );
}
