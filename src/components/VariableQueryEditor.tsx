import React from 'react';
import { Combobox, Field } from '@grafana/ui';

import { FIELDS } from '../fields';
import type { VariableQuery } from '../types';

/** The fields whose values a variable can list: those the values resource serves. */
const options = FIELDS.filter((f) => f.values).map((f) => ({
  label: f.label,
  value: f.name,
  description: f.description,
}));

interface Props {
  query: VariableQuery | string;
  onChange: (query: VariableQuery) => void;
}

/** A variable lists the distinct values of one field over the dashboard's time range. */
export function VariableQueryEditor({ query, onChange }: Props) {
  const field = typeof query === 'string' ? query : query?.field;
  return (
    <Field
      label="Values of"
      description="The field's distinct values among the newest audit events of the time range, most frequent first."
    >
      <Combobox
        id="variable-field"
        width={30}
        options={options}
        value={field || null}
        placeholder="Choose a field"
        onChange={(o) => onChange({ ...(typeof query === 'object' ? query : { refId: 'variable' }), field: o.value })}
      />
    </Field>
  );
}
