import React from 'react';
import { EditorField } from '@grafana/plugin-ui';
import { Combobox, RadioButtonGroup, Stack } from '@grafana/ui';

import { FIELDS } from '../../fields';
import { SortField, SortOrder } from '../../types';
import { FlagOptions } from './FlagOptions';
import { OptionInput } from './OptionInput';
import { orderLabels } from './summary';
import { QueryDraft } from './useQueryDraft';

const sortOptions = FIELDS.filter((f) => f.sort).map((f) => ({ label: f.label, value: f.name as SortField }));

/** A search's options: flags, sort field and order, and how many records to show. */
export function SearchOptions({ draft }: { draft: QueryDraft }) {
  const { query, change } = draft;
  const field = query.sort?.field ?? 'create_time';
  const order = query.sort?.order ?? 'DESC';
  return (
    <Stack gap={2} wrap="wrap" alignItems="flex-start">
      <FlagOptions draft={draft} />
      <EditorField label="Sort by">
        <Combobox<SortField>
          id="sort-field"
          width={18}
          options={sortOptions}
          value={field}
          onChange={(o) => change({ sort: { field: o.value, order } })}
        />
      </EditorField>
      <EditorField label="Order">
        <RadioButtonGroup<SortOrder>
          aria-label="Order"
          size="sm"
          options={(['DESC', 'ASC'] as const).map((o) => ({ label: orderLabels(field)[o], value: o }))}
          value={order}
          onChange={(o) => change({ sort: { field, order: o } })}
        />
      </EditorField>
      <OptionInput draft={draft} option="limit" label="Limit" id="query-limit" type="number" width={12} />
    </Stack>
  );
}
