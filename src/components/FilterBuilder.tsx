import React, { useState } from 'react';
import { Button, Combobox, IconButton, Stack } from '@grafana/ui';

import { FILTERABLE, FilterRow } from '../filters';
import { FilterChips, HiddenLabel } from './FilterChips';

interface Props {
  rows: FilterRow[];
  onChange: (rows: FilterRow[]) => void;
  /** Suggested values of a field: the backend's, over the current time range, and the dashboard's variables. */
  values: (field: string) => Promise<string[]>;
}

const fieldOptions = FILTERABLE.map((f) => ({ label: f.label, value: f.name, description: f.description }));
const opOptions = [
  { label: 'is', value: 'is' as const, description: 'Matches any of the values' },
  { label: 'is not', value: 'is not' as const, description: 'Leaves out every value' },
];

/**
 * Filters as Loki's builder has them: field, is / is not, values, one row each, and "Add filter". A row without
 * a value filters nothing and stays on screen until it gets one or is removed.
 */
export function FilterBuilder({ rows, onChange, values }: Props) {
  // Rows being written that have no value yet (the query cannot hold them), and the order the user made the
  // rows in, so that a row does not jump when it gets its first value.
  const [pending, setPending] = useState<KeyedRow[]>([]);
  const [order, setOrder] = useState<string[]>([]);
  const position = (key: string) => (order.includes(key) ? order.indexOf(key) : order.length);
  const shown = [...rows.map((r) => ({ ...r, key: keyOf(r) })), ...pending]
    .map((row, i) => ({ row, i }))
    .sort((a, b) => position(a.row.key) - position(b.row.key) || a.i - b.i)
    .map(({ row }) => row);
  const update = (i: number, row: FilterRow | undefined) => {
    const next = shown
      .map((r, j) => (j === i ? row && { ...row, key: row.values.length ? keyOf(row) : pendingKey(r.key) } : r))
      .filter((r): r is KeyedRow => r !== undefined);
    setOrder(next.map((r) => r.key));
    setPending(next.filter((r) => r.values.length === 0));
    onChange(next.filter((r) => r.values.length > 0).map(({ key, ...r }) => r));
  };
  return (
    <Stack direction="column" gap={1}>
      {shown.map((row, i) => {
        const label = FILTERABLE.find((f) => f.name === row.field)?.label ?? row.field;
        return (
          <Stack key={row.key} gap={0.5} alignItems="center" wrap="wrap">
            <HiddenLabel id={`filter-${i}-field-label`}>Filter {i + 1} field</HiddenLabel>
            <Combobox
              id={`filter-${i}-field`}
              aria-labelledby={`filter-${i}-field-label`}
              width={18}
              options={fieldOptions}
              value={row.field}
              onChange={(o) => update(i, { ...row, field: o.value })}
            />
            <HiddenLabel id={`filter-${i}-op-label`}>Filter {i + 1} operator</HiddenLabel>
            <Combobox
              id={`filter-${i}-op`}
              aria-labelledby={`filter-${i}-op-label`}
              width={10}
              options={opOptions}
              value={row.op}
              onChange={(o) => update(i, { ...row, op: o.value })}
            />
            <FilterChips
              id={`filter-${i}-values`}
              label={`${label} values`}
              values={row.values}
              placeholder="Type or choose values"
              loadOptions={() => values(row.field)}
              onChange={(v) => update(i, { ...row, values: v })}
            />
            <IconButton name="times" tooltip={`Remove the ${label} filter`} onClick={() => update(i, undefined)} />
          </Stack>
        );
      })}
      <div>
        <Button
          size="sm"
          variant="secondary"
          icon="plus"
          onClick={() => {
            const row = { field: unusedField(shown), op: 'is' as const, values: [], key: pendingKey() };
            setPending([...pending, row]);
            setOrder([...shown.map((r) => r.key), row.key]);
          }}
        >
          Add filter
        </Button>
      </div>
    </Stack>
  );
}

type KeyedRow = FilterRow & { key: string };

/** A row of the query is one per field and side (the query joins rows that share both). */
const keyOf = (row: FilterRow) => `${row.op}:${row.field}`;

let pendingRows = 0;
/** A row without values keeps the key it had while it was being written, or gets a new one. */
const pendingKey = (key?: string) => (key?.startsWith('pending-') ? key : `pending-${++pendingRows}`);

/** The first field no row names yet, so a new row starts on something useful. */
function unusedField(rows: FilterRow[]): string {
  return FILTERABLE.find((f) => !rows.some((r) => r.field === f.name))?.name ?? FILTERABLE[0].name;
}
