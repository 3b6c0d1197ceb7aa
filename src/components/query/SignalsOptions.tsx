import React from 'react';
import { EditorField } from '@grafana/plugin-ui';
import { RadioButtonGroup } from '@grafana/ui';

import { CBCQuery } from '../../types';
import { QueryDraft } from './useQueryDraft';

type SignalsFormat = 'table' | 'time_series';

const formats = [
  { label: 'Findings', value: 'table' as const, description: 'One row per finding, with a link to its evidence' },
  {
    label: 'Over time',
    value: 'time_series' as const,
    description: 'Findings per interval, one series per detection and entity: for charts and alert rules',
  },
];

export function signalsFormat(query: CBCQuery): SignalsFormat {
  return query.format === 'time_series' ? 'time_series' : 'table';
}

/** The security signals' one option: findings as rows, or counted over time. */
export function SignalsOptions({ draft }: { draft: QueryDraft }) {
  return (
    <EditorField label="Format">
      <RadioButtonGroup<SignalsFormat>
        aria-label="Format"
        size="sm"
        options={formats}
        value={signalsFormat(draft.query)}
        onChange={(f) => draft.change({ format: f })}
      />
    </EditorField>
  );
}
