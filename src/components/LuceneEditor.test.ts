import { luceneSyntax, luceneTerm } from '../lucene';
import { quickFix, suggest } from './LuceneEditor';

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

describe('quick fix', () => {
  it('escapes the / of a rounded date after a comparison, where the error is marked', () => {
    const text = 'flagged:true AND\ncreate_time:>=now/d';
    const fix = luceneSyntax(text)?.fix;
    expect(fix).toEqual({ title: 'Escape the / as \\/', offset: 34, insert: '\\' });
    const lines = text.split('\n');
    const model = {
      uri: { toString: () => 'inmemory://query' } as never,
      getVersionId: () => 7,
      getPositionAt: (offset: number) => {
        const line = lines[0].length + 1 <= offset ? 2 : 1;
        return { lineNumber: line, column: line === 1 ? offset + 1 : offset - lines[0].length } as never;
      },
    };
    const action = quickFix(model, fix!, []);
    expect(action).toMatchObject({ title: 'Escape the / as \\/', kind: 'quickfix', isPreferred: true });
    expect(action.edit?.edits).toEqual([
      {
        resource: model.uri,
        versionId: 7,
        textEdit: { range: { startLineNumber: 2, startColumn: 18, endLineNumber: 2, endColumn: 18 }, text: '\\' },
      },
    ]);
  });
});
