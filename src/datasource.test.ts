import {
  DataQueryRequest,
  DataSourceInstanceSettings,
  FieldType,
  ScopedVars,
  SupplementaryQueryType,
  toDataFrame,
} from '@grafana/data';
import { firstValueFrom } from 'rxjs';
import { TemplateSrv } from '@grafana/runtime';

import { DataSource, VariableQuery, VariableSupport } from './datasource';
import { CBCOptions, CBCQuery } from './types';

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getTemplateSrv: () => ({ replace: (s: string) => s }),
}));

const variables: Record<string, string | string[]> = {
  user: 'alice@acme.example',
  users: ['a@x', 'b@x'],
  ip: '10.0.0.1',
};

/** A template service that replaces $name like Grafana's, calling the format function for each value. */
const templateSrv = {
  replace: (target: string, _vars?: ScopedVars, format?: (v: string | string[]) => string) =>
    target.replace(/\$(\w+)/g, (m, name) => {
      const value = variables[name];
      if (value === undefined) {
        return m;
      }
      return format ? format(value) : String(value);
    }),
} as unknown as TemplateSrv;

function makeDataSource() {
  const settings = {
    uid: 'cbc',
    type: 'seed-cbcauditlogs-datasource',
    name: 'CBC',
    jsonData: {},
  } as DataSourceInstanceSettings<CBCOptions>;
  return new DataSource(settings, templateSrv);
}

const base: CBCQuery = { refId: 'A', queryType: 'search' };

describe('applyTemplateVariables', () => {
  it('interpolates the query text, quoting values and joining multi-value variables with OR', () => {
    const ds = makeDataSource();
    const out = ds.applyTemplateVariables({ ...base, query: 'actor:$users AND actor_ip:$ip' }, {});
    expect(out.query).toBe('actor:(a@x OR b@x) AND actor_ip:10.0.0.1');
  });

  it('turns a multi-value variable in a chip into one value per selection', () => {
    const ds = makeDataSource();
    const out = ds.applyTemplateVariables(
      { ...base, criteria: { actor: ['$users', 'carol@x'] }, exclusions: { actor_ip: ['$ip'] } },
      {}
    );
    expect(out.criteria?.actor).toEqual(['a@x', 'b@x', 'carol@x']);
    expect(out.exclusions?.actor_ip).toEqual(['10.0.0.1']);
  });

  it('turns ad hoc filters into criteria, exclusions and, for other keys, query terms', () => {
    const ds = makeDataSource();
    const out = ds.applyTemplateVariables({ ...base, query: 'flagged:true' }, {}, [
      { key: 'actor', operator: '=', value: 'alice@acme.example' },
      { key: 'actor_ip', operator: '!=', value: '10.0.0.1' },
      { key: 'verbose', operator: '=', value: 'false' },
      { key: 'category', operator: '!=', value: 'login failure' },
      { key: 'country', operator: '=', value: 'DE' },
      { key: 'asn', operator: '!=', value: 'AS3320 Deutsche Telekom AG' },
    ]);
    expect(out.criteria).toEqual({ actor: ['alice@acme.example'], verbose: false, country: ['DE'] });
    expect(out.exclusions).toEqual({ actor_ip: ['10.0.0.1'], asn: ['AS3320 Deutsche Telekom AG'] });
    expect(out.query).toBe('(flagged:true) AND NOT category:"login failure"');
  });
});

describe('query modification from log details', () => {
  it('filters for a value, then toggles it off', () => {
    const ds = makeDataSource();
    const filtered = ds.toggleQueryFilter(base, { type: 'FILTER_FOR', options: { key: 'actor', value: 'bob@x' } });
    expect(filtered.criteria?.actor).toEqual(['bob@x']);
    expect(ds.queryHasFilter(filtered, { key: 'actor', value: 'bob@x' })).toBe(true);
    const off = ds.toggleQueryFilter(filtered, { type: 'FILTER_FOR', options: { key: 'actor', value: 'bob@x' } });
    expect(off.criteria?.actor).toEqual([]);
  });

  it('filters out a value, moving it from the criteria to the exclusions', () => {
    const ds = makeDataSource();
    const q = { ...base, criteria: { actor_ip: ['1.2.3.4'] } };
    const out = ds.toggleQueryFilter(q, { type: 'FILTER_OUT', options: { key: 'actor_ip', value: '1.2.3.4' } });
    expect(out.criteria?.actor_ip).toEqual([]);
    expect(out.exclusions?.actor_ip).toEqual(['1.2.3.4']);
    const flagged = ds.toggleQueryFilter(base, { type: 'FILTER_FOR', options: { key: 'flagged', value: 'true' } });
    expect(flagged.criteria?.flagged).toBe(true);
  });
});

describe('filterQuery and defaults', () => {
  it('skips hidden queries and runs empty ones (an empty search lists the newest events)', () => {
    const ds = makeDataSource();
    expect(ds.filterQuery({ ...base, hide: true })).toBe(false);
    expect(ds.filterQuery(base)).toBe(true);
  });

  it('offers flagged and verbose values without a request', async () => {
    const ds = makeDataSource();
    await expect(ds.getTagValues({ key: 'flagged' })).resolves.toEqual([{ text: 'true' }, { text: 'false' }]);
    const keys = await ds.getTagKeys();
    expect(keys.map((k) => k.text)).toEqual([
      'actor',
      'actor_ip',
      'description',
      'request_url',
      'flagged',
      'verbose',
      'country',
      'asn',
    ]);
  });
});

describe('variables', () => {
  it('lists the distinct values of the field a variable names, over the dashboard range', async () => {
    const ds = makeDataSource();
    const getResource = jest.spyOn(ds, 'getResource').mockResolvedValue(['alice@acme.example', 'bob@acme.example']);
    const range = { from: { valueOf: () => 1000 }, to: { valueOf: () => 2000 } } as never;
    const values = await ds.metricFindQuery(' actor ', { range });
    expect(getResource).toHaveBeenCalledWith('values', { field: 'actor', from: '1000', to: '2000' });
    expect(values).toEqual([{ text: 'alice@acme.example' }, { text: 'bob@acme.example' }]);
    await expect(ds.metricFindQuery('')).resolves.toEqual([]);
  });
});

describe('Explore', () => {
  it('asks for the logs volume as a count of the same search', () => {
    const ds = makeDataSource();
    const q: CBCQuery = {
      ...base,
      query: 'flagged:true',
      criteria: { actor: ['a'] },
      sort: { field: 'actor', order: 'ASC' },
    };
    const volume = ds.getSupplementaryQuery({ type: SupplementaryQueryType.LogsVolume }, q);
    expect(volume).toEqual(
      expect.objectContaining({
        refId: 'log-volume-A',
        queryType: 'count',
        query: 'flagged:true',
        criteria: { actor: ['a'] },
        sort: undefined,
      })
    );
    expect(
      ds.getSupplementaryQuery({ type: SupplementaryQueryType.LogsVolume }, { ...base, queryType: 'count' })
    ).toBeUndefined();
    expect(ds.getSupportedSupplementaryQueryTypes()).toEqual([SupplementaryQueryType.LogsVolume]);
    const request = { targets: [q, { ...base, refId: 'B', hide: true }] } as DataQueryRequest<CBCQuery>;
    expect(ds.getSupplementaryRequest(SupplementaryQueryType.LogsVolume, request)?.targets.map((t) => t.refId)).toEqual(
      ['log-volume-A']
    );
  });

  it('turns audit events into annotations: description as text, actor and category as tags', async () => {
    const ds = makeDataSource();
    const frame = toDataFrame({
      fields: [
        { name: 'create_time', type: FieldType.time, values: [1700000000000] },
        { name: 'actor', type: FieldType.string, values: ['alice@acme.example'] },
        { name: 'description', type: FieldType.string, values: ['Login failed for user alice@acme.example'] },
        { name: 'category', type: FieldType.string, values: ['login failure'] },
      ],
    });
    const prepared = ds.annotations!.prepareQuery!({ target: { ...base, query: 'flagged:true' } } as never);
    expect(prepared).toEqual(expect.objectContaining({ queryType: 'search', format: 'table', query: 'flagged:true' }));
    const events = await firstValueFrom(ds.annotations!.processEvents!({} as never, [frame]));
    expect(events).toEqual([
      {
        time: 1700000000000,
        text: 'Login failed for user alice@acme.example',
        tags: ['alice@acme.example', 'login failure'],
      },
    ]);
  });
});

describe('variable support', () => {
  it('answers a variable query with the field values', async () => {
    const ds = makeDataSource();
    jest.spyOn(ds, 'getResource').mockResolvedValue(['10.0.0.1']);
    const response = await firstValueFrom(
      (ds.variables as VariableSupport).query({
        targets: [{ refId: 'v', field: 'actor_ip' }],
      } as DataQueryRequest<VariableQuery>)
    );
    expect(response.data).toEqual([{ text: '10.0.0.1' }]);
  });
});
