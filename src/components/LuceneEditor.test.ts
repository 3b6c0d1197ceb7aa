import { luceneSyntax, luceneTerm } from '../lucene';
import { suggest } from './LuceneEditor';

const source = {
  values: jest.fn(async (field: string) => (field === 'actor' ? ['alice@acme.example', 'bob smith'] : [])),
  variables: () => ['actor', 'ip'],
};

describe('completion', () => {
  it('offers field names, operators and variables where a term starts', async () => {
    const found = await suggest('flagged:true AND ac', source);
    const fields = found.filter((s) => s.kind === 'field').map((s) => s.label);
    expect(fields).toEqual([
      'create_time',
      'actor',
      'actor_ip',
      'description',
      'request_url',
      'flagged',
      'verbose',
      'org_key',
    ]);
    expect(found.find((s) => s.label === 'actor')).toMatchObject({ insertText: 'actor:', replace: 2 });
    expect(found.map((s) => s.label)).toEqual(expect.arrayContaining(['AND', 'OR', 'NOT', '$actor', '$ip']));
  });

  it("offers a field's values after field:, quoted when they need it, and variables", async () => {
    const found = await suggest('actor:al', source);
    expect(source.values).toHaveBeenCalledWith('actor');
    expect(found[0]).toEqual({
      label: 'alice@acme.example',
      insertText: 'alice@acme.example',
      kind: 'value',
      replace: 2,
    });
    expect(found.map((s) => s.label)).toEqual(['alice@acme.example', '$actor', '$ip']);
    expect(luceneTerm('bob smith')).toBe('"bob smith"');
    expect(luceneTerm('say "hi"')).toBe('"say \\"hi\\""');
    // Each value stays one term Lucene can read after field:, whatever it holds.
    for (const v of ['-leading', '+plus', 'OR', 'a/b', 'x:y', 'back\\slash', 'alice*', '10.20.0.15', 'tab\there']) {
      expect({ v, problem: luceneSyntax(`actor:${luceneTerm(v)} AND x`) }).toEqual({ v, problem: undefined });
    }
    expect(luceneTerm('alice*', true)).toBe('alice*');
    expect(luceneTerm('alice*')).toBe('"alice*"');
  });

  it('offers true and false for a flag, and variables after $', async () => {
    expect((await suggest('flagged:', source)).filter((s) => s.kind === 'value').map((s) => s.label)).toEqual([
      'true',
      'false',
    ]);
    expect((await suggest('actor:$a', source)).map((s) => s.label)).toEqual(['$actor', '$ip']);
    expect(await suggest('nope:x', source)).toEqual([]);
  });
});
