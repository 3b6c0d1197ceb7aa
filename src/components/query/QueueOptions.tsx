import React from 'react';
import { EditorField, EditorRow } from '@grafana/plugin-ui';
import { RadioButtonGroup, Text } from '@grafana/ui';

import { QueryDraft } from './useQueryDraft';

const formats = [
  { label: 'Logs', value: 'logs' as const },
  { label: 'Table', value: 'table' as const },
];

/** What the live queue shows, in place of a search's input. */
export function QueueNote() {
  return (
    <EditorRow>
      <Text variant="bodySmall" color="secondary">
        Every new audit event, read from this credential&apos;s queue by the data source (never by the panel, so viewers
        do not take events from one another) and streamed to the panel as it arrives. The search fields are kept for
        when you switch back, and do not apply here.
      </Text>
    </EditorRow>
  );
}

/** The live queue's one option: the format. */
export function QueueOptions({ draft }: { draft: QueryDraft }) {
  return (
    <EditorField label="Format">
      <RadioButtonGroup<'logs' | 'table'>
        aria-label="Format"
        size="sm"
        options={formats}
        value={draft.query.format === 'table' ? 'table' : 'logs'}
        onChange={(f) => draft.change({ format: f })}
      />
    </EditorField>
  );
}
