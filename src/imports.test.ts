import fs from 'fs';
import path from 'path';

/** Every module under src/ with the modules of src/ it imports, type-only imports included. */
function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        visit(file);
      } else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) {
        const text = fs.readFileSync(file, 'utf8');
        const targets = [...text.matchAll(/(?:import|export)[^'"]*?from\s+'(\.[^']*)'/g)]
          .map((m) => path.resolve(dir, m[1]))
          .flatMap((base) => ['.ts', '.tsx', '/index.ts'].map((ext) => base + ext).filter((f) => fs.existsSync(f)));
        graph.set(file, targets);
      }
    }
  };
  visit(root);
  return graph;
}

/** The first import cycle found, as the files that form it; empty when there is none. */
function findCycle(graph: Map<string, string[]>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const walk = (file: string): string[] => {
    if (state.get(file) === 'open') {
      return [...stack.slice(stack.indexOf(file)), file];
    }
    if (state.get(file) === 'done') {
      return [];
    }
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      const cycle = walk(next);
      if (cycle.length > 0) {
        return cycle;
      }
    }
    stack.pop();
    state.set(file, 'done');
    return [];
  };
  for (const file of graph.keys()) {
    const cycle = walk(file);
    if (cycle.length > 0) {
      return cycle;
    }
  }
  return [];
}

// A module that imports, through others, a module that imports it is loaded half-initialised: keep src/ a tree.
describe('imports', () => {
  it('form no circle', () => {
    const root = path.join(__dirname);
    const graph = importGraph(root);
    expect(graph.size).toBeGreaterThan(10);
    expect(findCycle(graph).map((f) => path.relative(root, f))).toEqual([]);
  });

  it('are found when they do form one', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
    ]);
    expect(findCycle(graph)).toEqual(['a.ts', 'b.ts', 'c.ts', 'a.ts']);
  });
});
