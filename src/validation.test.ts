import { readFileSync } from 'fs';

import verdicts from '../tests/lucene/verdicts.json';
import { intervalMs, queryProblems, settingsProblems, syntaxProblem } from './validation';

/** The examples of the grammar table (docs/query-language.md), which the simulator's tests check against Lucene. */
function documentedGrammar(): string[] {
  const doc = readFileSync(`${__dirname}/../docs/query-language.md`, 'utf8');
  const table = doc.slice(doc.indexOf('<!-- grammar -->'), doc.indexOf('<!-- /grammar -->'));
  return table
    .split('\n')
    .map((line) => line.split(' | ')[1]?.trim() ?? '')
    .filter((cell) => cell.startsWith('`'))
    .map((cell) => cell.slice(1, -1).replace(/\\\|/g, '|'));
}

describe('query validation', () => {
  it('accepts the query language and dashboard variables', () => {
    for (const q of [
      'description:"Login failed" AND NOT actor_ip:10.*',
      'create_time:[now-1d TO now]',
      'actor:/al.*e/ OR _exists_:flagged',
      'actor:$actor AND actor_ip:${actor_ip:lucene} AND [[x]]',
      '',
    ]) {
      expect(syntaxProblem(q)).toBeUndefined();
    }
  });

  // tests/lucene/verdicts.json is what Apache Lucene's query parser says of the differential test's corpus
  // (pkg/cbcsim/reference_test.go), so the editor neither refuses a query CBC runs nor sends one CBC refuses.
  it('agrees with Lucene on every query of the differential corpus', () => {
    expect(verdicts.length).toBeGreaterThan(300);
    for (const { query, valid } of verdicts) {
      expect({ query, valid: syntaxProblem(query) === undefined }).toEqual({ query, valid });
    }
  });

  it('accepts every example of the grammar table', () => {
    const grammar = documentedGrammar();
    expect(grammar.length).toBeGreaterThan(40);
    for (const q of grammar) {
      expect({ q, problem: syntaxProblem(q) }).toEqual({ q, problem: undefined });
    }
  });

  it('says where the syntax breaks and what to do', () => {
    expect(syntaxProblem('description:"Login failed')).toEqual({
      message: 'A quoted phrase is not closed: add the closing "',
      offset: 12,
    });
    expect(syntaxProblem('(actor:a OR actor:b')).toEqual({ message: 'A parenthesis is not closed: add )', offset: 0 });
    expect(syntaxProblem('actor:a)')?.message).toBe('A ) closes nothing, or comes where a term was expected');
    expect(syntaxProblem('create_time:[now-1d TO')).toEqual({
      message: 'A range is not closed: add ] or }',
      offset: 12,
    });
    expect(syntaxProblem('actor:x AND')).toEqual({
      message: 'The query ends too early: finish the last term, or remove the operator before it',
      offset: 11,
    });
    expect(syntaxProblem('OR actor:x')).toEqual({
      message: 'OR needs a term on each side: add one or remove OR',
      offset: 0,
    });
    expect(syntaxProblem('NOT NOT x')?.offset).toBe(4);
    expect(syntaxProblem('a AND AND b')?.offset).toBe(6);
  });

  it('offers to escape the slash of a rounded date after a comparison', () => {
    const problem = syntaxProblem('create_time:>=now/d AND flagged:true');
    expect(problem).toEqual({
      message: 'After >=, >, < or <=, a / must be escaped as \\/ (or use a range: [now/d TO *])',
      offset: 17,
      fix: { title: 'Escape the / as \\/', offset: 17, insert: '\\' },
    });
    expect(syntaxProblem('create_time:>=now\\/d AND flagged:true')).toBeUndefined();
    expect(syntaxProblem('create_time:[now/d TO *]')).toBeUndefined();
    expect(syntaxProblem('create_time:>=now/d AND (')?.fix).toBeUndefined();
  });

  it('checks limit, interval and top N as the backend does', () => {
    expect(queryProblems({ limit: 0 }).limit).toMatch(/from 1 to 200000/);
    expect(queryProblems({ limit: 200001 }).limit).toBeDefined();
    expect(queryProblems({ limit: 500 })).toEqual({});
    expect(queryProblems({ interval: '5 minutes' }).interval).toMatch(/30s, 5m/);
    expect(queryProblems({ interval: '367d' }).interval).toBe('At most 366d.');
    expect(queryProblems({ topN: -3 }).topN).toMatch(/from 0/);
    expect(queryProblems({ topN: 1.5 }).topN).toBeDefined();
    expect(queryProblems({ queryType: 'queue', query: '(' })).toEqual({});
  });

  it('reads intervals as Go and Grafana write them', () => {
    expect(intervalMs('30s')).toBe(30000);
    expect(intervalMs('1h30m')).toBe(5400000);
    expect(intervalMs('1.5h')).toBe(5400000);
    expect(intervalMs('2w')).toBe(14 * 86400000);
    expect(intervalMs('5')).toBeUndefined();
  });
});

describe('settings validation', () => {
  it('finds what the backend would refuse, by setting', () => {
    expect(
      settingsProblems({
        region: 'custom',
        url: 'sim:8080',
        orgKey: 'abcd 1234!',
        concurrency: -3,
        queuePollSeconds: 5,
      } as never)
    ).toEqual({
      url: 'Must start with https://',
      orgKey: 'Letters and digits only, e.g. ABCD1234.',
      concurrency: 'A whole number, not negative; leave it empty for the default.',
      queuePollSeconds: 'At least 10.',
    });
  });

  it('wants a Redis address as host:port', () => {
    expect(settingsProblems({ redisAddress: 'redis' } as never).redisAddress).toBe('host:port, e.g. redis:6379');
    expect(settingsProblems({ redisAddress: 'redis:6379' } as never)).toEqual({});
  });

  it('checks the working hours and known ranges of the security signals as the backend does', () => {
    for (const good of [
      'Mon-Fri 08:00-18:00',
      'mon,wed,fri 09:00-17:00',
      'Sat-Sun 22:00-06:00',
      'Mon-Sun 00:00-24:00',
    ]) {
      expect(settingsProblems({ workingHours: good } as never)).toEqual({});
    }
    for (const bad of ['weekdays', 'Mon-Fri 8-18', 'Mon-Fri 08:00', 'Mon-Fri 25:00-26:00']) {
      expect(settingsProblems({ workingHours: bad } as never).workingHours).toMatch(/Days and hours/);
    }
    expect(settingsProblems({ knownRanges: '203.0.113.0/24, 198.51.100.7\n2001:db8::/32' } as never)).toEqual({});
    expect(settingsProblems({ knownRanges: '203.0.113.0/24, office' } as never).knownRanges).toBe(
      'office is not an address or CIDR range, such as 203.0.113.0/24.'
    );
  });

  it('names the switch that allows plain HTTP', () => {
    expect(settingsProblems({ region: 'custom', url: 'http://sim:8080' } as never).url).toMatch(/"Allow plain HTTP"/);
    expect(settingsProblems({ region: 'custom', url: 'http://sim:8080', allowInsecureHttp: true } as never)).toEqual(
      {}
    );
    expect(settingsProblems({ region: 'custom', url: 'https://x.example/path' } as never).url).toMatch(/host only/);
  });
});
