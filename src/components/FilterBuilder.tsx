import React, { useState } from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { Button, Combobox, IconButton, Stack, Text, useStyles2 } from '@grafana/ui';

import { AFTER_SEARCH_NOTE, FILTERABLE, filteredAfterSearch, FilterRow } from '../filters';
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
  const styles = useStyles2(getStyles);
  // Rows being written that have no value yet (the query cannot hold them), and the order the user made the
  // rows in, so that a row does not jump when it gets its first value.
  const [pending, setPending] = useState<KeyedRow[]>([]);
  const [order, setOrder] = useState<string[]>([]);
  const position = (key: string) => (order.includes(key) ? order.indexOf(key) : order.length);
  const shown = [...rows.map((r) => ({ ...r, key: keyOf(r) })), ...pending]
    .map((row, i) => ({ row, i }))
    .sort((a, b) => position(a.row.key) - position(b.row.key) || a.i - b.i)
    .map(({ row }) => row);
  const free = unused(shown); // where Add filter starts a row, if anywhere
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
          <div key={row.key} className={styles.row}>
            <div className={styles.controls}>
              <HiddenLabel id={`filter-${i}-field-label`}>Filter {i + 1} field</HiddenLabel>
              <Combobox
                id={`filter-${i}-field`}
                aria-labelledby={`filter-${i}-field-label`}
                width={18}
                options={fieldOptions.filter((o) => o.value === row.field || !taken(shown, i, o.value, row.op))}
                value={row.field}
                onChange={(o) => update(i, { ...row, field: o.value })}
              />
              <HiddenLabel id={`filter-${i}-op-label`}>Filter {i + 1} operator</HiddenLabel>
              <Combobox
                id={`filter-${i}-op`}
                aria-labelledby={`filter-${i}-op-label`}
                width={10}
                options={opOptions.filter((o) => o.value === row.op || !taken(shown, i, row.field, o.value))}
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
            </div>
            <IconButton name="times" tooltip={`Remove the ${label} filter`} onClick={() => update(i, undefined)} />
          </div>
        );
      })}
      {shown.some((r) => filteredAfterSearch(r.field)) && (
        <Text variant="bodySmall" color="secondary">
          {AFTER_SEARCH_NOTE}
        </Text>
      )}
      <div>
        <Button
          size="sm"
          variant="secondary"
          icon="plus"
          disabled={!free}
          tooltip={free ? undefined : 'Every field has a row of each kind: add values to one of them'}
          onClick={() => {
            if (!free) {
              return;
            }
            const row = { ...free, values: [], key: pendingKey() };
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

/**
 * Whether a row other than the i-th already has this field and operator. The query holds one list per field and
 * side, so two such rows would silently become one: a row may not take a pair another row has.
 */
function taken(rows: FilterRow[], i: number, field: string, op: FilterRow['op']): boolean {
  return rows.some((r, j) => j !== i && r.field === field && r.op === op);
}

/** The field and operator a new row starts on: the first field no row names yet, or a free "is not" pair. */
function unused(rows: FilterRow[]): Pick<FilterRow, 'field' | 'op'> | undefined {
  const free = (op: FilterRow['op']) => FILTERABLE.find((f) => !taken(rows, -1, f.name, op))?.name;
  const untouched = FILTERABLE.find((f) => !rows.some((r) => r.field === f.name))?.name;
  if (untouched) {
    return { field: untouched, op: 'is' };
  }
  const field = free('is') ?? free('is not');
  return field ? { field, op: free('is') ? 'is' : 'is not' } : undefined;
}

/** A row keeps its remove button beside it; its controls wrap, and the values shrink to the row's width. */
const getStyles = (theme: GrafanaTheme2) => ({
  row: css({ display: 'flex', alignItems: 'center', gap: theme.spacing(0.5), minWidth: 0 }),
  controls: css({
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    gap: theme.spacing(0.5),
    flex: '1 1 auto',
    minWidth: 0,
  }),
});
