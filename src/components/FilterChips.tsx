import React, { useCallback } from 'react';
import { ComboboxOption, MultiCombobox } from '@grafana/ui';

interface Props {
  id: string;
  values: string[];
  /** Loads suggestions; typed values that are not suggested are kept too. */
  loadOptions: () => Promise<string[]>;
  onChange: (values: string[]) => void;
  placeholder: string;
}

/** A list of values (chips) with suggestions from the backend. */
export function FilterChips({ id, values, loadOptions, onChange, placeholder }: Props) {
  const options = useCallback(
    async (input: string): Promise<Array<ComboboxOption<string>>> => {
      const suggestions = await loadOptions().catch(() => [] as string[]);
      const needle = input.toLowerCase();
      return suggestions.filter((v) => v.toLowerCase().includes(needle)).map((v) => ({ value: v, label: v }));
    },
    [loadOptions]
  );
  return (
    <MultiCombobox<string>
      id={id}
      width="auto"
      minWidth={24}
      maxWidth={60}
      isClearable
      createCustomValue
      placeholder={placeholder}
      options={options}
      value={values}
      onChange={(selected) => onChange(selected.map((o) => o.value))}
    />
  );
}
