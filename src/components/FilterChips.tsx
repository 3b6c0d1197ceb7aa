import React, { KeyboardEvent, ReactNode, useCallback, useRef, useState } from 'react';
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

/** The values box may shrink to its row: chips past its width show as a count instead of overflowing. */
const fits = css({ flex: '1 1 30em', minWidth: 0 });

/** Grafana's grid, in which a box's width is given, and the narrowest values box. */
const GRID = 8;
const MIN_UNITS = 30;

const hidden = css({ position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)' });

/** A label screen readers announce and the eye does not need, for controls the row already explains. */
export function HiddenLabel({ id, children }: { id: string; children: ReactNode }) {
  return (
    <span id={id} className={hidden}>
      {children}
    </span>
  );
}

/** The values typed or pasted into a box: one per line or comma, as a list of addresses or e-mails comes. */
export function typedValues(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** Empties a text box the way typing would, so that the component that owns its text hears of it. */
function clearInput(input: HTMLInputElement) {
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')?.set?.call(input, '');
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

/**
 * A list of values (chips) with suggestions from the backend; hovering shows every value in full. Enter or Tab
 * keeps what was typed as a value, unless a suggestion is highlighted (Enter then takes the suggestion): pasting
 * an e-mail or an address and pressing Enter is the commonest way to fill a filter.
 */
export function FilterChips({ id, label, values, loadOptions, onChange, placeholder }: Props) {
  const options = useCallback(
    async (input: string): Promise<Array<ComboboxOption<string>>> => {
      const suggestions = await loadOptions().catch(() => [] as string[]);
      const needle = input.toLowerCase();
      return suggestions.filter((v) => v.toLowerCase().includes(needle)).map((v) => ({ value: v, label: v }));
    },
    [loadOptions]
  );
  const keepTyped = (e: KeyboardEvent<HTMLDivElement>) => {
    const input = e.target as HTMLInputElement;
    if (
      (e.key !== 'Enter' && e.key !== 'Tab') ||
      input.tagName !== 'INPUT' ||
      input.getAttribute('aria-activedescendant')
    ) {
      return;
    }
    const typed = typedValues(input.value).filter((v) => !values.includes(v));
    if (typed.length === 0) {
      return;
    }
    if (e.key === 'Enter') {
      e.preventDefault();
      e.stopPropagation();
    }
    onChange([...values, ...typed]);
    clearInput(input);
  };
  // The box takes the rest of its row, or a whole line of its own, and shows as many chips as fit there.
  const [units, setUnits] = useState(MIN_UNITS);
  const measured = useRef<ResizeObserver | undefined>(undefined);
  const measure = useCallback((el: HTMLDivElement | null) => {
    measured.current?.disconnect();
    if (el && typeof ResizeObserver !== 'undefined') {
      measured.current = new ResizeObserver(([entry]) =>
        setUnits(Math.max(MIN_UNITS, Math.floor(entry.contentRect.width / GRID)))
      );
      measured.current.observe(el);
    }
  }, []);
  return (
    <div ref={measure} title={values.join(', ') || undefined} onKeyDownCapture={keepTyped} className={fits}>
      <HiddenLabel id={`${id}-label`}>{label}</HiddenLabel>
      <MultiCombobox<string>
        id={id}
        aria-labelledby={`${id}-label`}
        width="auto"
        minWidth={MIN_UNITS}
        maxWidth={units}
        createCustomValue
        placeholder={placeholder}
        options={options}
        value={values}
        onChange={(selected) => onChange(selected.map((o) => o.value))}
      />
    </div>
  );
}
