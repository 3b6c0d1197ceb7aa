import React from 'react';
import { EditorHeader, FlexItem } from '@grafana/plugin-ui';
import { Button, LinkButton, RadioButtonGroup, Stack } from '@grafana/ui';

import { EditorMode } from '../../types';
import { Mode } from './modes';
import { QueryDraft } from './useQueryDraft';

export const SYNTAX_DOCS =
  'https://developer.carbonblack.com/reference/carbon-black-cloud/platform/latest/audit-log-api/#search-audit-logs';

const editorModes = [
  { label: 'Builder', value: 'builder' as const, description: 'Filters by field, chosen from lists' },
  { label: 'Code', value: 'code' as const, description: 'The Lucene query text, with completion' },
];

interface Props {
  draft: QueryDraft;
  /** The query types offered here; none in the annotations editor. */
  modes: Array<{ label: string; value: Mode; description: string }>;
  mode: Mode;
  onMode: (m: Mode) => void;
  editorMode: EditorMode;
  onEditorMode: (m: EditorMode) => void;
}

/** The editor's header: the query type, the syntax docs, Builder or Code, and Run query. */
export function QueryHeader({ draft, modes, mode, onMode, editorMode, onEditorMode }: Props) {
  return (
    <EditorHeader>
      {modes.length > 0 && (
        <RadioButtonGroup<Mode> aria-label="Query type" options={modes} value={mode} onChange={onMode} size="sm" />
      )}
      <FlexItem grow={1} />
      {/* One group, so that a narrow panel moves it whole to the next line rather than cut it. */}
      <Stack gap={2} alignItems="center" wrap="wrap" justifyContent="flex-end">
        {mode !== 'queue' && mode !== 'signals' && (
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
              options={editorModes}
              value={editorMode}
              onChange={onEditorMode}
            />
          </>
        )}
        <Button
          size="sm"
          icon="play"
          variant={draft.stale ? 'primary' : 'secondary'}
          disabled={draft.invalid}
          tooltip={draft.invalid ? 'Fix the problems shown first' : undefined}
          onClick={() => draft.run()}
        >
          Run query
        </Button>
      </Stack>
    </EditorHeader>
  );
}
