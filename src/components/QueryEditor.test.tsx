import React from 'react';
import { cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { CoreApp } from '@grafana/data';

import { QueryEditor } from './QueryEditor';
import { orderLabels } from './query/summary';
import { CBCQuery, EditorApi } from '../types';

// Grafana's code editor is Monaco, which Grafana loads in the browser; here a text area stands in for it (the
// browser check drives the real one).
jest.mock('@grafana/ui', () => ({
  ...jest.requireActual('@grafana/ui'),
  CodeEditor: ({ value, onBlur }: { value: string; onBlur?: (v: string) => void }) => (
    <textarea aria-label="Query text" defaultValue={value} onBlur={(e) => onBlur?.(e.currentTarget.value)} />
  ),
}));

const user = () => userEvent.setup({ delay: null });

function setup(query: Partial<CBCQuery> = {}, app?: CoreApp, context?: 'annotations', lastRun?: CBCQuery) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  const datasource = {
    fieldValues: jest.fn().mockResolvedValue(['alice@acme.example', 'bob@acme.example']),
  } as unknown as EditorApi;
  const q: CBCQuery = { refId: 'A', queryType: 'search', ...query };
  const view = render(
    <QueryEditor
      query={q}
      onChange={onChange}
      onRunQuery={onRunQuery}
      datasource={datasource}
      app={app}
      context={context}
      data={lastRun && ({ request: { targets: [lastRun] } } as never)}
    />
  );
  return { onChange, onRunQuery, datasource, view };
}

const openOptions = (u: ReturnType<typeof user>) => u.click(screen.getByText('Options'));

describe('QueryEditor header', () => {
  it('offers the query types, Builder and Code, the syntax docs and Run query', () => {
    setup();
    const types = screen.getByRole('radiogroup', { name: 'Query type' });
    expect(
      within(types)
        .getAllByRole('radio')
        .map((r) => r.getAttribute('aria-label') ?? r.nextSibling?.textContent)
    ).toHaveLength(5);
    expect(screen.getByRole('radiogroup', { name: 'Editor mode' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: /Query syntax/ })).toHaveAttribute('target', '_blank');
    expect(screen.getByRole('button', { name: /Run query/ })).toBeInTheDocument();
  });

  it('switches to a count over time and shows its options instead of sorting', async () => {
    const u = user();
    const { onChange } = setup();
    await u.click(screen.getByText('Count over time'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ queryType: 'count' }));
  });
});

describe('QueryEditor builder', () => {
  it('adds a filter, picks a value the backend suggests, and runs', async () => {
    const u = user();
    const { onChange, onRunQuery, datasource } = setup({ editorMode: 'builder' });
    await u.click(screen.getByRole('button', { name: 'Add filter' }));
    await u.click(screen.getByRole('combobox', { name: 'Actor values' }));
    await u.click(await screen.findByText('bob@acme.example'));
    expect(datasource.fieldValues).toHaveBeenCalledWith('actor', undefined);
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ criteria: { actor: ['bob@acme.example'] } }));
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('shows each filter of the query as a row, is or is not, with its full values on hover', () => {
    setup({
      editorMode: 'builder',
      criteria: { actor: ['alice@acme.example'], flagged: true },
      exclusions: { actor_ip: ['10.0.0.1', '10.0.0.2'] },
    });
    expect(screen.getByRole('combobox', { name: 'Filter 1 field' })).toHaveValue('Actor');
    expect(screen.getByRole('combobox', { name: 'Filter 2 field' })).toHaveValue('Actor IP');
    expect(screen.getByRole('combobox', { name: 'Filter 2 operator' })).toHaveValue('is not');
    expect(screen.getByTitle('10.0.0.1, 10.0.0.2')).toBeInTheDocument();
  });

  it('says that the plugin, not CBC, applies a filter on country or network', () => {
    setup({ editorMode: 'builder', criteria: { actor: ['alice@acme.example'] } });
    expect(screen.queryByText(/CBC cannot search them/)).not.toBeInTheDocument();
    cleanup();
    setup({ editorMode: 'builder', criteria: { country: ['DE'] }, exclusions: { asn: ['3320'] } });
    expect(screen.getByRole('combobox', { name: 'Filter 1 field' })).toHaveValue('Country');
    expect(screen.getByRole('combobox', { name: 'Filter 2 field' })).toHaveValue('Network (ASN)');
    expect(
      screen.getByText(/CBC cannot search them: the plugin filters the records the search returns/)
    ).toBeInTheDocument();
  });

  it('a new filter stays where it was added when it gets its first value', async () => {
    const u = user();
    const onChange = jest.fn();
    const datasource = { fieldValues: jest.fn().mockResolvedValue(['bob@acme.example']) } as unknown as EditorApi;
    const first: CBCQuery = { refId: 'A', editorMode: 'builder', exclusions: { actor_ip: ['10.0.0.1'] } };
    const props = { onChange, onRunQuery: jest.fn(), datasource };
    const { rerender } = render(<QueryEditor query={first} {...props} />);
    await u.click(screen.getByRole('button', { name: 'Add filter' }));
    await u.click(screen.getByRole('combobox', { name: 'Actor values' }));
    await u.click(await screen.findByText('bob@acme.example'));
    rerender(<QueryEditor query={onChange.mock.lastCall[0]} {...props} />);
    expect(screen.getByRole('combobox', { name: 'Filter 1 field' })).toHaveValue('Actor IP');
    expect(screen.getByRole('combobox', { name: 'Filter 1 operator' })).toHaveValue('is not');
    expect(screen.getByRole('combobox', { name: 'Filter 2 field' })).toHaveValue('Actor');
    expect(screen.getByRole('combobox', { name: 'Filter 2 operator' })).toHaveValue('is');
  });

  it('a row cannot take the field and operator of another row, so rows never merge', async () => {
    const u = user();
    const { onChange } = setup({
      editorMode: 'builder',
      criteria: { actor: ['a', 'b', '$user'], actor_ip: ['203.0.113.10'] },
    });
    await u.click(screen.getByRole('combobox', { name: 'Filter 1 field' }));
    const offered = screen.getAllByRole('option').map((o) => o.textContent);
    expect(offered.some((o) => o?.startsWith('Actor IP'))).toBe(false);
    expect(offered.some((o) => o?.startsWith('Request URL'))).toBe(true);
    await u.keyboard('{Escape}');
    await u.click(screen.getByRole('combobox', { name: 'Filter 2 operator' }));
    await u.click(screen.getByRole('option', { name: /is not/ }));
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ criteria: { actor: ['a', 'b', '$user'] }, exclusions: { actor_ip: ['203.0.113.10'] } })
    );
  });

  it('keeps a typed or pasted value on Enter and on Tab', async () => {
    const u = user();
    const { onChange } = setup({ editorMode: 'builder', criteria: { actor: ['a'] } });
    const box = screen.getByRole('combobox', { name: 'Actor values' });
    await u.click(box);
    await u.type(box, 'eve@acme.example{Enter}');
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ criteria: { actor: ['a', 'eve@acme.example'] } })
    );
    expect(box).toHaveValue('');
    await u.clear(box); // user-event keeps its own copy of the text it typed
    await u.type(box, 'mallory@acme.example');
    await u.tab();
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ criteria: { actor: ['a', 'mallory@acme.example'] } })
    );
  });

  it('removing a filter keeps flagged, verbose and the other filters', async () => {
    const u = user();
    const { onChange } = setup({
      editorMode: 'builder',
      criteria: { actor: ['a'], flagged: true },
      exclusions: { actor_ip: ['10.0.0.1'] },
    });
    await u.click(screen.getByRole('button', { name: 'Remove the Actor filter' }));
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ criteria: { flagged: true }, exclusions: { actor_ip: ['10.0.0.1'] } })
    );
  });
});

describe('QueryEditor code', () => {
  it('keeps the builder filters when the text is edited, and says they apply', async () => {
    const u = user();
    const { onChange } = setup({ editorMode: 'code', query: 'flagged:true', criteria: { actor: ['a'] } });
    expect(screen.getByText("The builder's filters also apply: actor is a.")).toBeInTheDocument();
    const text = screen.getByLabelText('Query text');
    await u.clear(text);
    await u.type(text, 'actor_ip:10.*');
    await u.tab();
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ query: 'actor_ip:10.*', criteria: { actor: ['a'] } })
    );
  });

  it('marks a syntax error in place and will not run the query', async () => {
    const u = user();
    const { onRunQuery } = setup({ editorMode: 'code', query: 'description:"Login failed' });
    expect(screen.getByText(/A quoted phrase is not closed/)).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    const run = screen.getByRole('button', { name: /Run query/ });
    expect(run).toHaveAttribute('aria-disabled', 'true');
    await u.click(screen.getByText('Count over time'));
    expect(onRunQuery).not.toHaveBeenCalled();
  });

  it('builder → code → builder keeps every filter', async () => {
    const u = user();
    const query: CBCQuery = {
      refId: 'A',
      queryType: 'search',
      criteria: { actor: ['a'] },
      exclusions: { actor_ip: ['b'] },
    };
    const onChange = jest.fn();
    const datasource = { fieldValues: jest.fn().mockResolvedValue([]) } as unknown as EditorApi;
    const { rerender } = render(
      <QueryEditor query={query} onChange={onChange} onRunQuery={jest.fn()} datasource={datasource} />
    );
    await u.click(screen.getByText('Code'));
    const coded = onChange.mock.lastCall[0];
    rerender(<QueryEditor query={coded} onChange={onChange} onRunQuery={jest.fn()} datasource={datasource} />);
    expect(coded.query).toBe('actor:a AND NOT actor_ip:b');
    await u.click(screen.getByText('Builder'));
    const built = onChange.mock.lastCall[0];
    expect(built).toEqual({ ...query, editorMode: 'builder', query: '' });
  });

  it('stays in Code, saying why, when the text is more than the builder can hold', async () => {
    const u = user();
    const { onChange } = setup({ editorMode: 'code', query: 'actor:alice* OR flagged:true' });
    await u.click(screen.getByText('Builder'));
    expect(onChange).not.toHaveBeenCalled();
    expect(screen.getByText(/The query stays in Code: it has .* at character/)).toBeInTheDocument();
  });

  it('in a dashboard, leaving the code editor runs the edited query', async () => {
    const u = user();
    const { onChange, onRunQuery } = setup({ editorMode: 'code', query: 'flagged:true' }, CoreApp.Dashboard);
    const text = screen.getByLabelText('Query text');
    await u.clear(text);
    await u.type(text, 'actor:bob');
    await u.tab();
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ query: 'actor:bob' }));
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it('in Explore, leaving the code editor applies the text and marks the results stale until it runs', async () => {
    const u = user();
    const ran: CBCQuery = { refId: 'A', queryType: 'search', editorMode: 'code', query: 'flagged:true' };
    const { onChange, onRunQuery, view } = setup(ran, CoreApp.Explore, undefined, ran);
    const run = () => screen.getByRole('button', { name: /Run query/ });
    const fresh = run().className;
    const text = screen.getByLabelText('Query text');
    await u.clear(text);
    await u.type(text, 'actor:bob');
    await u.tab();
    expect(onRunQuery).not.toHaveBeenCalled();
    const applied = onChange.mock.lastCall[0];
    const resultsOf = (last: CBCQuery) =>
      view.rerender(
        <QueryEditor
          query={applied}
          onChange={onChange}
          onRunQuery={onRunQuery}
          datasource={{ fieldValues: jest.fn().mockResolvedValue([]) } as unknown as EditorApi}
          app={CoreApp.Explore}
          data={{ request: { targets: [last] } } as never}
        />
      );
    resultsOf(ran);
    expect(run().className).not.toBe(fresh); // stale: the results are still those of flagged:true
    resultsOf(applied);
    expect(run().className).toBe(fresh);
  });
});

describe('QueryEditor options', () => {
  it('sums up the options while closed, with readable sort words', () => {
    setup({ sort: { field: 'create_time', order: 'DESC' }, limit: 500, criteria: { flagged: true } });
    expect(screen.getByText('Sort: time, newest first · Limit 500 · Flagged: yes')).toBeInTheDocument();
  });

  it('stay closed when only the query text is wrong, and open for a wrong option', () => {
    setup({ editorMode: 'code', query: 'description:"Login failed' });
    expect(screen.getByText(/^Sort: time, newest first/)).toBeInTheDocument();
    setup({ limit: -1 });
    expect(document.getElementById('query-limit')).toBeInTheDocument();
  });

  it('words the order by the field type', () => {
    expect(orderLabels('create_time')).toEqual({ DESC: 'Newest first', ASC: 'Oldest first' });
    expect(orderLabels('actor')).toEqual({ DESC: 'Z to A', ASC: 'A to Z' });
    expect(orderLabels('flagged')).toEqual({ DESC: 'True first', ASC: 'False first' });
  });

  it('sets flagged to yes', async () => {
    const u = user();
    const { onChange } = setup();
    await openOptions(u);
    await u.click(within(screen.getByRole('radiogroup', { name: 'Flagged' })).getByText('Yes'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ criteria: { flagged: true } }));
  });

  it('refuses a limit above the maximum in place, and runs a good one on Enter', async () => {
    const u = user();
    const { onChange, onRunQuery } = setup();
    await openOptions(u);
    const limit = document.getElementById('query-limit')!;
    await u.clear(limit);
    await u.type(limit, '999999');
    await u.tab();
    expect(screen.getByText(/Limit must be a whole number from 1 to 200000/)).toBeInTheDocument();
    expect(onChange).not.toHaveBeenCalledWith(expect.objectContaining({ limit: 999999 }));
    await u.clear(limit);
    await u.type(limit, '250{Enter}');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ limit: 250 }));
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it('checks interval and top N in place, and runs them on Enter', async () => {
    const u = user();
    const { onChange, onRunQuery } = setup({ queryType: 'count' });
    await openOptions(u);
    await u.type(document.getElementById('count-top')!, '-3');
    expect(screen.getByText(/A whole number from 0/)).toBeInTheDocument();
    await u.clear(document.getElementById('count-top')!);
    await u.type(document.getElementById('count-interval')!, '5 minutes{Enter}');
    expect(screen.getByText('Use a width such as 30s, 5m, 1h or 1d.')).toBeInTheDocument();
    expect(onRunQuery).not.toHaveBeenCalled();
    await u.clear(document.getElementById('count-interval')!);
    await u.type(document.getElementById('count-interval')!, '5m{Enter}');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ interval: '5m' }));
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });
});

describe('QueryEditor follows the query', () => {
  it('shows a query changed from outside in every box, and never writes the old value back', async () => {
    const u = user();
    const onChange = jest.fn();
    const datasource = { fieldValues: jest.fn().mockResolvedValue([]) } as unknown as EditorApi;
    const first: CBCQuery = { refId: 'A', queryType: 'count', query: 'flagged:true', interval: '5m', topN: 3 };
    const { rerender } = render(
      <QueryEditor query={first} onChange={onChange} onRunQuery={jest.fn()} datasource={datasource} />
    );
    await openOptions(u);
    const second: CBCQuery = { ...first, interval: '1h', topN: 7 };
    rerender(<QueryEditor query={second} onChange={onChange} onRunQuery={jest.fn()} datasource={datasource} />);
    expect(document.getElementById('count-interval')).toHaveValue('1h');
    expect(document.getElementById('count-top')).toHaveValue(7);
    await u.click(document.getElementById('count-interval')!);
    await u.tab();
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
    expect(onChange).not.toHaveBeenCalled();
  });
});

describe('QueryEditor where it runs', () => {
  it('in an alert rule offers only a count and the signals, and says why a search cannot alert', () => {
    setup({}, CoreApp.UnifiedAlerting);
    for (const type of ['Live queue', 'Logs', 'Table', 'Export']) {
      expect(screen.queryByText(type)).not.toBeInTheDocument();
    }
    expect(screen.getByText('Count over time')).toBeInTheDocument();
    expect(screen.getByText('Security signals')).toBeInTheDocument();
    expect(screen.getByText(/an alert rule cannot evaluate: choose Count over time/)).toBeInTheDocument();
  });

  it('in an alert rule asks for the signals over time, not the findings table', () => {
    setup({ queryType: 'signals', format: 'table' }, CoreApp.UnifiedAlerting);
    expect(
      screen.getByText(/Findings are rows, which an alert rule cannot evaluate: choose the format Over time/)
    ).toBeInTheDocument();
    cleanup();
    setup({ queryType: 'signals', format: 'time_series' }, CoreApp.UnifiedAlerting);
    expect(screen.queryByText(/cannot evaluate/)).not.toBeInTheDocument();
  });

  it('in annotations shows no query type and no export', () => {
    setup({ format: 'table' }, CoreApp.Dashboard, 'annotations');
    expect(screen.queryByRole('radiogroup', { name: 'Query type' })).not.toBeInTheDocument();
    expect(screen.queryByText('Export')).not.toBeInTheDocument();
  });

  it('the live queue offers logs or table, and keeps the search fields when switched to and back', async () => {
    const u = user();
    const { onChange } = setup({
      query: 'flagged:true',
      criteria: { actor: ['a'] },
      sort: { field: 'actor', order: 'ASC' },
    });
    await u.click(screen.getByText('Live queue'));
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({
        queryType: 'queue',
        query: 'flagged:true',
        criteria: { actor: ['a'] },
        sort: { field: 'actor', order: 'ASC' },
      })
    );
  });

  it('the live queue explains itself and chooses logs or table', async () => {
    const u = user();
    const { onChange } = setup({ queryType: 'queue' });
    expect(screen.getByText(/streamed to the panel as it arrives/)).toBeInTheDocument();
    expect(screen.queryByRole('radiogroup', { name: 'Editor mode' })).not.toBeInTheDocument();
    await openOptions(u);
    await u.click(within(screen.getByRole('radiogroup', { name: 'Format' })).getByText('Table'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ queryType: 'queue', format: 'table' }));
  });
});

describe('QueryEditor accessibility', () => {
  it('names every button and radio group, and reaches Export in few Tab stops', async () => {
    const u = user();
    setup({ editorMode: 'builder', criteria: { actor: ['a'] } });
    for (const button of screen.getAllByRole('button')) {
      expect(button).toHaveAccessibleName();
    }
    for (const group of screen.getAllByRole('radiogroup')) {
      expect(group).toHaveAccessibleName();
    }
    const exportButton = screen.getByRole('button', { name: 'Export' });
    let stops = 0;
    while (document.activeElement !== exportButton && stops < 40) {
      await u.tab();
      stops++;
    }
    expect(stops).toBeLessThanOrEqual(15);
  });
});

describe('QueryEditor security signals', () => {
  it('switches to the signals as a findings table, without the search input', async () => {
    const u = user();
    const { onChange } = setup({ query: 'logged' });
    await u.click(screen.getByText('Security signals'));
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ queryType: 'signals', format: 'table', query: 'logged' })
    );
    cleanup();
    setup({ queryType: 'signals' });
    expect(screen.queryByRole('radiogroup', { name: 'Editor mode' })).not.toBeInTheDocument();
    expect(screen.getByText(/Runs every detection at its defaults/)).toBeInTheDocument();
  });

  it('picks a detection, explains it, and starts it from its defaults', async () => {
    const u = user();
    const { onChange, onRunQuery } = setup({ queryType: 'signals', parameters: { baseline_days: '7' } });
    await u.click(screen.getByRole('combobox', { name: 'Detection' }));
    await u.click(await screen.findByText('Brute force'));
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ queryType: 'signals', detection: 'brute_force', parameters: undefined })
    );
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    cleanup();
    setup({ queryType: 'signals', detection: 'brute_force' });
    expect(
      screen.getByText(
        /T1110.001 Brute Force: Password Guessing · high · At least 10 failed logins for one actor within 10m\./
      )
    ).toBeInTheDocument();
    expect(document.getElementById('signals-failures')).toHaveAttribute('placeholder', '10');
    cleanup();
    setup({ queryType: 'signals', detection: 'brute_force', parameters: { failures: '4' } });
    expect(screen.getByText(/At least 4 failed logins for one actor within 10m\./)).toBeInTheDocument();
    expect(document.getElementById('signals-window')).toHaveAttribute('placeholder', '10m');
  });

  it('applies a typed parameter on leaving the box, runs it on Enter, and never applies a value the backend refuses', async () => {
    const u = user();
    const { onChange, onRunQuery } = setup({ queryType: 'signals', detection: 'brute_force' });
    const box = document.getElementById('signals-window')!;
    await u.type(box, 'soon');
    await u.tab();
    expect(screen.getByText('A duration such as 30s, 10m or 2h.')).toBeInTheDocument();
    expect(onChange).not.toHaveBeenCalled();
    await u.clear(box);
    await u.type(box, '5m');
    await u.tab();
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ parameters: { window: '5m' } }));
    await u.type(document.getElementById('signals-failures')!, '4{Enter}');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ parameters: { failures: '4' } }));
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('offers the profile parts a detection reads, with the data source as the default', () => {
    setup({ queryType: 'signals', detection: 'off_hours_admin' });
    expect(document.getElementById('signals-working_hours')).toHaveAttribute('placeholder', 'data source setting');
    expect(document.getElementById('signals-time_zone')).toBeInTheDocument();
    expect(document.getElementById('signals-known_ranges')).not.toBeInTheDocument();
  });

  it('marks the results stale when the detection differs from the one they come from', () => {
    const run = () => screen.getByRole('button', { name: /Run query/ }).className;
    const query = { queryType: 'signals' as const, detection: 'brute_force' };
    setup(query, CoreApp.Explore, undefined, { refId: 'A', ...query });
    const fresh = run();
    cleanup();
    setup(query, CoreApp.Explore, undefined, { refId: 'A', ...query, detection: 'password_spray' });
    expect(run()).not.toBe(fresh);
  });
});
