import { intervalMs, queryProblems, settingsProblems, syntaxProblem } from './validation';

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
