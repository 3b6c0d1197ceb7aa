import React from 'react';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { DataSource } from '../datasource';
import { QueryEditor } from './QueryEditor';
import { CBCQuery } from '../types';

function setup(query: Partial<CBCQuery> = {}) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  const datasource = {
    fieldValues: jest.fn().mockResolvedValue(['alice@acme.example', 'bob@acme.example']),
  } as unknown as DataSource;
  const q: CBCQuery = { refId: 'A', queryType: 'search', ...query };
  render(<QueryEditor query={q} onChange={onChange} onRunQuery={onRunQuery} datasource={datasource} />);
  return { onChange, onRunQuery, datasource };
}

describe('QueryEditor', () => {
  it('runs the query text on Enter, not on every keystroke', async () => {
    const { onChange, onRunQuery } = setup();
    await userEvent.type(screen.getByLabelText('Query'), 'flagged:true');
    expect(onRunQuery).not.toHaveBeenCalled();
    await userEvent.keyboard('{Enter}');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ query: 'flagged:true' }));
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it('switches to a count over time and shows its options instead of sorting', async () => {
    const { onChange } = setup();
    expect(screen.getByText('Sort by')).toBeInTheDocument();
    await userEvent.click(screen.getByText('Count over time'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ queryType: 'count' }));
  });

  it('shows group by and interval for a count', () => {
    setup({ queryType: 'count', groupBy: 'category' });
    expect(screen.getByText('Group by')).toBeInTheDocument();
    expect(screen.getByText('Interval')).toBeInTheDocument();
    expect(screen.queryByText('Sort by')).not.toBeInTheDocument();
  });

  it('sets flagged to yes', async () => {
    const { onChange } = setup();
    await userEvent.click(screen.getAllByText('Yes')[0]);
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ criteria: { flagged: true } }));
  });

  it('adds an actor chip from the backend suggestions', async () => {
    const { onChange, datasource } = setup();
    await userEvent.click(document.getElementById('criteria-actor')!);
    await userEvent.click(await screen.findByText('bob@acme.example'));
    expect(datasource.fieldValues).toHaveBeenCalledWith('actor', undefined);
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ criteria: { actor: ['bob@acme.example'] } }));
  });

  it('refuses a limit above the maximum', async () => {
    const { onChange } = setup();
    const limit = screen.getByDisplayValue('1000');
    await userEvent.clear(limit);
    await userEvent.type(limit, '999999');
    await userEvent.tab();
    expect(screen.getByText('A number from 1 to 200000')).toBeInTheDocument();
    expect(onChange).not.toHaveBeenCalledWith(expect.objectContaining({ limit: 999999 }));
  });
});

describe('QueryEditor follows the query', () => {
  it('shows a query changed from outside in every box, and never writes the old value back', async () => {
    const onChange = jest.fn();
    const datasource = { fieldValues: jest.fn().mockResolvedValue([]) } as unknown as DataSource;
    const first: CBCQuery = {
      refId: 'A',
      queryType: 'count',
      query: 'flagged:true',
      limit: 10,
      interval: '5m',
      topN: 3,
    };
    const { rerender } = render(
      <QueryEditor query={first} onChange={onChange} onRunQuery={jest.fn()} datasource={datasource} />
    );
    const second: CBCQuery = { ...first, query: 'actor:bob*', interval: '1h', topN: 7 };
    rerender(<QueryEditor query={second} onChange={onChange} onRunQuery={jest.fn()} datasource={datasource} />);
    expect(screen.getByLabelText('Query')).toHaveValue('actor:bob*');
    expect(document.getElementById('count-interval')).toHaveValue('1h');
    expect(document.getElementById('count-top')).toHaveValue(7);
    await userEvent.click(screen.getByLabelText('Query'));
    await userEvent.tab();
    expect(onChange).not.toHaveBeenCalled();

    const search: CBCQuery = { refId: 'A', queryType: 'search', limit: 10 };
    rerender(<QueryEditor query={search} onChange={onChange} onRunQuery={jest.fn()} datasource={datasource} />);
    rerender(
      <QueryEditor
        query={{ ...search, limit: 250 }}
        onChange={onChange}
        onRunQuery={jest.fn()}
        datasource={datasource}
      />
    );
    expect(document.getElementById('query-limit')).toHaveValue(250);
  });
});

describe('QueryEditor live queue', () => {
  it('switches to the live queue and back without losing the query text, filters or sort', async () => {
    const { onChange } = setup({
      query: 'flagged:true',
      criteria: { actor: ['a'] },
      sort: { field: 'actor', order: 'ASC' },
    });
    await userEvent.click(screen.getByText('Live queue'));
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({
        queryType: 'queue',
        format: 'logs',
        query: 'flagged:true',
        criteria: { actor: ['a'] },
        sort: { field: 'actor', order: 'ASC' },
      })
    );
  });

  it('explains the queue and hides the search controls', () => {
    setup({ queryType: 'queue' });
    expect(screen.getByText(/streamed to the panel as it arrives/)).toBeInTheDocument();
    expect(screen.queryByLabelText('Query')).not.toBeInTheDocument();
    expect(screen.queryByText('Export')).not.toBeInTheDocument();
  });
});
