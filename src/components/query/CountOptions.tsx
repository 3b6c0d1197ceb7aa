import React from 'react';
import { EditorField } from '@grafana/plugin-ui';
import { Combobox, Stack } from '@grafana/ui';

import { FIELDS } from '../../fields';
import { GroupBy } from '../../types';
import { FlagOptions } from './FlagOptions';
import { OptionInput } from './OptionInput';
import { QueryDraft } from './useQueryDraft';

const groupOptions: Array<{ label: string; value: GroupBy | '' }> = [
  { label: 'Nothing', value: '' },
  ...FIELDS.filter((f) => f.groupBy).map((f) => ({ label: f.label, value: f.name as GroupBy })),
];

/** A count's options: flags, what to group by, the bucket width, and how many groups to keep. */
export function CountOptions({ draft }: { draft: QueryDraft }) {
  const { query, change } = draft;
  return (
    <Stack gap={2} wrap="wrap" alignItems="flex-start">
      <FlagOptions draft={draft} />
      <EditorField label="Group by">
        <Combobox<GroupBy | ''>
          id="group-by"
          width={18}
          options={groupOptions}
          value={query.groupBy ?? ''}
          onChange={(o) => change({ groupBy: o.value })}
        />
      </EditorField>
      <OptionInput
        draft={draft}
        option="interval"
        label="Interval"
        tooltip="Bucket width, e.g. 5m or 1h. Empty: Grafana's interval."
        id="count-interval"
        width={10}
        placeholder="auto"
      />
      <OptionInput
        draft={draft}
        option="topN"
        label="Top"
        tooltip="Keep the N biggest groups and sum the rest into 'other'. Empty: all groups."
        id="count-top"
        type="number"
        width={10}
        placeholder="all"
      />
    </Stack>
  );
}
