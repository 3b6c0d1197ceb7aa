import React from 'react';
import { TimeRange } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { EditorRow } from '@grafana/plugin-ui';
import { Stack, Text } from '@grafana/ui';

import { describeRows, filterRows, withRows } from '../../filters';
import { CBCQuery, EditorApi, EditorMode } from '../../types';
import { FilterBuilder } from '../FilterBuilder';
import { LuceneEditor } from '../LuceneEditor';
import { QueryDraft } from './useQueryDraft';

interface Props {
  draft: QueryDraft;
  editorMode: EditorMode;
  /** Applies a change without running it. */
  apply: (patch: Partial<CBCQuery>) => void;
  /** Leaving the code editor runs the query, as in a dashboard; in Explore it only applies the text. */
  runOnBlur: boolean;
  datasource: EditorApi;
  range?: TimeRange;
}

/** What a search or count matches: the Lucene text in Code, filter rows in Builder. */
export function SearchInput({ draft, editorMode, apply, runOnBlur, datasource, range }: Props) {
  const { query } = draft;
  const rows = filterRows(query);
  const values = (field: string) =>
    datasource.fieldValues(field, range).then((found) => [...found, ...variables().map((v) => `$${v}`)]);
  if (editorMode === 'code') {
    return (
      <EditorRow>
        <Stack direction="column" gap={0.5} grow={1}>
          <LuceneEditor
            value={query.query ?? ''}
            source={{ values, variables }}
            onEdit={draft.setText}
            onChange={(q) => (runOnBlur ? draft.change({ query: q }) : apply({ query: q }))}
            onRun={(q) => {
              draft.setText(q);
              draft.run({ query: q });
            }}
          />
          <Text variant="bodySmall" color="secondary">
            {rows.length > 0
              ? `The builder's filters also apply: ${describeRows(rows)}.`
              : 'Lucene, e.g. description:"Login failed" AND NOT actor_ip:10.* — Ctrl+Space completes, Shift+Enter runs.'}
          </Text>
        </Stack>
      </EditorRow>
    );
  }
  return (
    <EditorRow>
      <Stack direction="column" gap={1} grow={1}>
        <FilterBuilder rows={rows} values={values} onChange={(r) => draft.change(withRows(query, r))} />
        {query.query && (
          <Text variant="bodySmall" color="secondary">
            The query text also applies: {query.query} (edit it in Code).
          </Text>
        )}
      </Stack>
    </EditorRow>
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
