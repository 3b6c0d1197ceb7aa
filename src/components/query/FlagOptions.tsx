import React from 'react';
import { EditorField } from '@grafana/plugin-ui';
import { RadioButtonGroup } from '@grafana/ui';

import { QueryDraft } from './useQueryDraft';

const tristate: Array<{ label: string; value: string }> = [
  { label: 'Any', value: 'any' },
  { label: 'Yes', value: 'true' },
  { label: 'No', value: 'false' },
];

const flags = [
  { key: 'flagged', label: 'Flagged', tooltip: 'Security-relevant events, such as failed logins.' },
  { key: 'verbose', label: 'Verbose', tooltip: 'Routine events that Carbon Black Cloud marks as detail.' },
] as const;

/** Flagged and Verbose: any, yes or no, as criteria of the search. */
export function FlagOptions({ draft }: { draft: QueryDraft }) {
  const { query, change } = draft;
  return (
    <>
      {flags.map((f) => (
        <EditorField key={f.key} label={f.label} tooltip={f.tooltip}>
          <RadioButtonGroup
            aria-label={f.label}
            options={tristate}
            size="sm"
            value={query.criteria?.[f.key] === undefined ? 'any' : String(query.criteria[f.key])}
            onChange={(v) =>
              change({ criteria: { ...query.criteria, [f.key]: v === 'any' ? undefined : v === 'true' } })
            }
          />
        </EditorField>
      ))}
    </>
  );
}
