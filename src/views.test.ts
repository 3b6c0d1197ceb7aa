import { readFileSync, writeFileSync } from 'fs';

import { filterRows } from './filters';
import { CBCQuery } from './types';
import { rowClause, switchView, textWithRows } from './views';

const q = (over: Partial<CBCQuery>): CBCQuery => ({ refId: 'A', queryType: 'search', ...over });

describe('Builder → Code', () => {
  it('writes each row as a clause, descriptions as phrases and variables bare', () => {
    expect(rowClause({ field: 'actor', op: 'is', values: ['a@x.example', '$user'] })).toBe(
      'actor:(a@x.example OR $user)'
    );
    expect(rowClause({ field: 'description', op: 'is not', values: ['Logged in'] })).toBe(
      'NOT description:"Logged in"'
    );
    expect(rowClause({ field: 'request_url', op: 'is', values: ['https://x/p'] })).toBe('request_url:"https://x/p"');
  });

  it('joins the rows to the text the query already has', () => {
    expect(textWithRows('flagged:true OR verbose:true', [{ field: 'actor', op: 'is', values: ['a'] }])).toBe(
      '(flagged:true OR verbose:true) AND actor:a'
    );
    expect(textWithRows('', [])).toBe('');
  });

  it('moves the filters into the text and keeps flagged and verbose as options', () => {
    const switched = switchView(
      q({ criteria: { actor: ['a', 'b'], flagged: true }, exclusions: { actor_ip: ['10.0.0.1'] } }),
      'code'
    );
    expect(switched).toEqual({
      query: q({ editorMode: 'code', query: 'actor:(a OR b) AND NOT actor_ip:10.0.0.1', criteria: { flagged: true } }),
    });
  });

  it('keeps country and network filters as filters: CBC cannot search them', () => {
    const switched = switchView(
      q({ criteria: { actor: ['a'], country: ['DE'] }, exclusions: { asn: ['3320'] } }),
      'code'
    );
    expect(switched).toEqual({
      query: q({ editorMode: 'code', query: 'actor:a', criteria: { country: ['DE'] }, exclusions: { asn: ['3320'] } }),
    });
  });
});

describe('Code → Builder', () => {
  const built = (text: string, over: Partial<CBCQuery> = {}) => switchView(q({ query: text, ...over }), 'builder');

  it('reads simple field filters back into rows', () => {
    const switched = built(
      'actor:(a OR "b c") AND NOT actor_ip:10.0.0.1 -actor_ip:10.0.0.2 description:"login failed"'
    );
    expect('query' in switched && filterRows(switched.query)).toEqual([
      { field: 'actor', op: 'is', values: ['a', 'b c'] },
      { field: 'description', op: 'is', values: ['login failed'] },
      { field: 'actor_ip', op: 'is not', values: ['10.0.0.1', '10.0.0.2'] },
    ]);
    expect('query' in switched && switched.query.query).toBe('');
  });

  it('keeps the query in Code, and says why, when the text is more than filters', () => {
    for (const [text, why] of [
      ['actor:a OR actor_ip:b', /OR between filters/],
      ['actor:alice*', /pattern/],
      ['failed', /without a field/],
      ['flagged:true', /flagged, which the builder has no filter for/],
      ['actor:a AND actor:b', /two filters on actor/],
      ['(actor:a OR actor:b) AND actor_ip:c', /group of clauses/],
      ['create_time:[now-1d TO now]', /no filter for/],
      ['actor:(a AND b)', /other than OR/],
      ['country:DE', /country, which CBC cannot search/],
    ] as const) {
      const switched = built(text);
      expect('reason' in switched && switched.reason).toMatch(why);
    }
  });

  it('goes both ways without losing a filter', () => {
    const start = q({
      criteria: { actor: ['a@x.example', '$user'], description: ['Login failed'], country: ['DE', 'private'] },
      exclusions: { actor_ip: ['1.2.3.4'] },
    });
    const coded = switchView(start, 'code');
    const back = 'query' in coded ? switchView(coded.query, 'builder') : coded;
    expect('query' in back && filterRows(back.query)).toEqual(filterRows(start));
  });
});

// The builder's filters and the text Code shows for them must match the same events. The simulator, which
// follows Elasticsearch over Lucene, is the judge: pkg/cbcsim/views_test.go runs both forms of each query in
// tests/views/pairs.json, which this test writes (UPDATE_VIEW_PAIRS=1) and holds to switchView.
describe('the builder and its text', () => {
  const builders: Array<Pick<CBCQuery, 'criteria' | 'exclusions'>> = [
    { criteria: { actor: ['alice.admin@acme.example'] } },
    { criteria: { actor: ['ALICE.ADMIN@acme.example', 'bob.analyst@acme.example'] } },
    { criteria: { actor_ip: ['203.0.113.10', '45.155.205.233'] }, exclusions: { actor: ['alice.admin@acme.example'] } },
    { criteria: { description: ['Logged in successfully'] } },
    { criteria: { description: ['login failed'] }, exclusions: { actor_ip: ['45.155.205.233', '185.220.101.4'] } },
    { criteria: { description: ['Deleted policy'] } },
    { criteria: { description: ["Updated policy 'Standard'"] } },
    { exclusions: { description: ['Logged in successfully', 'Logged out'] } },
    { criteria: { request_url: ['https://defense.conferdeploy.net/policies'] } },
    { criteria: { actor: ['alice.admin@acme.example'], actor_ip: ['203.0.113.10'], description: ['logged in'] } },
  ];

  it('writes each as text, and the text reads back into the same filters', () => {
    const pairs = builders.map((b) => {
      const coded = switchView(q(b), 'code');
      if (!('query' in coded)) {
        throw new Error(coded.reason);
      }
      const back = switchView(coded.query, 'builder');
      expect('query' in back && filterRows(back.query)).toEqual(filterRows(b));
      return { criteria: b.criteria ?? {}, exclusions: b.exclusions ?? {}, query: coded.query.query };
    });
    const file = `${__dirname}/../tests/views/pairs.json`;
    const text = JSON.stringify(pairs, null, 2) + '\n';
    if (process.env.UPDATE_VIEW_PAIRS) {
      writeFileSync(file, text);
    }
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});
