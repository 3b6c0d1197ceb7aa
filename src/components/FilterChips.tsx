import React, { ReactNode, useCallback } from 'react';
import { css } from '@emotion/css';
import { ComboboxOption, MultiCombobox } from '@grafana/ui';

interface Props {
  id: string;
  /** The accessible name of the values box. */
  label: string;
  values: string[];
  /** Loads suggestions; typed values that are not suggested are kept too. */
  loadOptions: () => Promise<string[]>;
  onChange: (values: string[]) => void;
  placeholder: string;
}

const hidden = css({ position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)' });

/** A label screen readers announce and the eye does not need, for controls the row already explains. */
export function HiddenLabel({ id, children }: { id: string; children: ReactNode }) {
  return (
    <span id={id} className={hidden}>
      {children}
    </span>
  );
}

/** A list of values (chips) with suggestions from the backend; hovering shows every value in full. */
export function FilterChips({ id, label, values, loadOptions, onChange, placeholder }: Props) {
  const options = useCallback(
    async (input: string): Promise<Array<ComboboxOption<string>>> => {
      const suggestions = await loadOptions().catch(() => [] as string[]);
      const needle = input.toLowerCase();
      return suggestions.filter((v) => v.toLowerCase().includes(needle)).map((v) => ({ value: v, label: v }));
    },
    [loadOptions]
  );
  return (
    <div title={values.join(', ') || undefined}>
      <HiddenLabel id={`${id}-label`}>{label}</HiddenLabel>
      <MultiCombobox<string>
        id={id}
        aria-labelledby={`${id}-label`}
        width="auto"
        minWidth={30}
        maxWidth={80}
        createCustomValue
        placeholder={placeholder}
        options={options}
        value={values}
        onChange={(selected) => onChange(selected.map((o) => o.value))}
      />
    </div>
  );
}
