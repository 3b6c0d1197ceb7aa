import { readFileSync } from 'fs';

import syntax from '../tests/lucene-syntax.json';
import { intervalMs, queryProblems, settingsProblems, syntaxProblem } from './validation';

/** The examples of the README's query language table, which the simulator's tests check against CBC's grammar. */
function readmeGrammar(): string[] {
  const readme = readFileSync(`${__dirname}/../README.md`, 'utf8');
  const table = readme.slice(readme.indexOf('<!-- grammar -->'), readme.indexOf('<!-- /grammar -->'));
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

  // The simulator's parser agrees with each line of tests/lucene-syntax.json (pkg/cbcsim/lucene), so the editor
  // neither refuses a query CBC runs nor sends one CBC refuses.
  it('agrees with the query language on every shared example', () => {
    const grammar = readmeGrammar();
    expect(grammar.length).toBeGreaterThan(40);
    for (const q of [...grammar, ...syntax.valid]) {
      expect({ q, problem: syntaxProblem(q) }).toEqual({ q, problem: undefined });
    }
    for (const q of syntax.invalid) {
      expect({ q, refused: syntaxProblem(q) !== undefined }).toEqual({ q, refused: true });
    }
  });

  it('says where the syntax breaks and what to do', () => {
    expect(syntaxProblem('description:"Login failed')).toEqual({
      message: 'A quoted phrase is not closed: add the closing "',
      offset: 25,
    });
    expect(syntaxProblem('(actor:a OR actor:b')?.message).toBe('A parenthesis is not closed: add )');
    expect(syntaxProblem('actor:a)')?.message).toBe('A ) closes nothing: remove it or add (');
    expect(syntaxProblem('create_time:[now-1d TO')?.message).toBe(
      'The query ends too early: finish the last term or range'
    );
  });

  it('finds an operator without a term, which the parser drops but CBC refuses', () => {
    expect(syntaxProblem('actor:x AND')).toEqual({
      message: 'The query ends with AND: add a term after it or remove it',
      offset: 8,
    });
    expect(syntaxProblem('OR actor:x')?.message).toBe('OR needs a term before it: add one or remove OR');
    expect(syntaxProblem('a AND AND b')?.offset).toBe(6);
    expect(syntaxProblem('a && || b')?.message).toBe('|| needs a term before it: add one or remove ||');
    expect(syntaxProblem('actor:(x OR) AND y')?.message).toBe('OR needs a term after it: add one or remove OR');
    expect(syntaxProblem('actor:x AND NOT')?.message).toBe('The query ends with NOT: add a term after it or remove it');
    for (const q of [
      'NOT actor:x',
      'a OR NOT b',
      'a AND -b',
      'description:"x AND" OR y',
      'actor:/a AND/ OR y',
      'create_time:[now-1d TO now] AND (a OR b)',
      'actor:foo\\ AND b',
      '!actor:x',
    ]) {
      expect(syntaxProblem(q)).toBeUndefined();
    }
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

  it('names the switch that allows plain HTTP', () => {
    expect(settingsProblems({ region: 'custom', url: 'http://sim:8080' } as never).url).toMatch(/"Allow plain HTTP"/);
    expect(settingsProblems({ region: 'custom', url: 'http://sim:8080', allowInsecureHttp: true } as never)).toEqual(
      {}
    );
    expect(settingsProblems({ region: 'custom', url: 'https://x.example/path' } as never).url).toMatch(/host only/);
  });
});
