import { FIELDS } from './fields';
import { FieldInfo, FILTER_FIELDS, GROUP_BY_FIELDS, SORTABLE_FIELDS } from './types';

const names = (keep: (f: FieldInfo) => boolean) => FIELDS.filter(keep).map((f) => f.name);

// The editors' field lists are typed constants; they must say what src/fields.json (the backend's vocabulary) says.
describe('field vocabulary', () => {
  it('lists the same criteria, sort and group-by fields as the editors', () => {
    expect([...FILTER_FIELDS]).toEqual(names((f) => f.criteria && f.type !== 'boolean'));
    expect([...SORTABLE_FIELDS]).toEqual(names((f) => f.sort));
    expect([...GROUP_BY_FIELDS]).toEqual(names((f) => f.groupBy));
  });
});
