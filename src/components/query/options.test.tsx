import React, { ComponentType } from 'react';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { CBCQuery } from '../../types';
import { CountOptions } from './CountOptions';
import { QueueOptions } from './QueueOptions';
import { SearchOptions } from './SearchOptions';
import { countSummary, searchSummary } from './summary';
import { QueryDraft, useQueryDraft } from './useQueryDraft';

const user = () => userEvent.setup({ delay: null });

/** Renders one options component over a query, as the editor holds it. */
function setup(Options: ComponentType<{ draft: QueryDraft }>, query: Partial<CBCQuery>) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  function Harness() {
    return <Options draft={useQueryDraft({ refId: 'A', ...query }, onChange, onRunQuery)} />;
  }
  render(<Harness />);
  return { onChange, onRunQuery };
}

describe('SearchOptions', () => {
  it('sets a flag and runs', async () => {
    const { onChange, onRunQuery } = setup(SearchOptions, { queryType: 'search' });
    await user().click(screen.getAllByText('Yes')[0]);
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ criteria: { flagged: true } }));
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it('names the order in words that fit the field', async () => {
    setup(SearchOptions, { sort: { field: 'flagged', order: 'ASC' } });
    expect(screen.getByText('True first')).toBeInTheDocument();
    expect(screen.getByText('False first')).toBeInTheDocument();
  });

  it('applies a typed limit on Enter, and never a limit the backend would refuse', async () => {
    const u = user();
    const { onChange, onRunQuery } = setup(SearchOptions, { limit: 10 });
    const box = document.getElementById('query-limit')!;
    await u.clear(box);
    await u.type(box, '300000{Enter}');
    expect(onChange).not.toHaveBeenCalled();
    expect(screen.getByText(/from 1 to 200000/)).toBeInTheDocument();
    await u.clear(box);
    await u.type(box, '250{Enter}');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ limit: 250 }));
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });
});

describe('CountOptions', () => {
  it('applies an interval when the box is left, not while typing', async () => {
    const u = user();
    const { onChange } = setup(CountOptions, { queryType: 'count' });
    const box = document.getElementById('count-interval')!;
    await u.type(box, '5m');
    expect(onChange).not.toHaveBeenCalled();
    await u.tab();
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ interval: '5m' }));
  });

  it('keeps a malformed interval in its box, with the reason', async () => {
    const u = user();
    const { onChange } = setup(CountOptions, { queryType: 'count' });
    await u.type(document.getElementById('count-interval')!, 'often');
    await u.tab();
    expect(onChange).not.toHaveBeenCalled();
    expect(screen.getByText('Use a width such as 30s, 5m, 1h or 1d.')).toBeInTheDocument();
  });
});

describe('QueueOptions', () => {
  it('switches the format and runs', async () => {
    const { onChange, onRunQuery } = setup(QueueOptions, { queryType: 'queue', format: 'logs' });
    await user().click(screen.getByText('Table'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ format: 'table' }));
    expect(onRunQuery).toHaveBeenCalled();
  });
});

describe('option summaries', () => {
  it('read as one line', () => {
    expect(searchSummary({ refId: 'A', sort: { field: 'actor', order: 'ASC' }, limit: 50 })).toBe(
      'Sort: actor, a to z · Limit 50'
    );
    expect(countSummary({ refId: 'A', groupBy: 'actor_ip', topN: 5, criteria: { flagged: false } })).toBe(
      'Group by: Actor IP · Interval: auto · Top: 5 · Flagged: no'
    );
  });
});
