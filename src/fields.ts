import vocabulary from './fields.json';
import { FieldInfo } from './types';

/** The field vocabulary (fields.json, which the backend embeds and serves as GET fields), typed once. */
export const FIELDS: readonly FieldInfo[] = vocabulary as FieldInfo[];

/** The vocabulary's entry for a field name; undefined for a name it lacks. */
export const fieldInfo = (name: string): FieldInfo | undefined => FIELDS.find((f) => f.name === name);

/** A field's label as the editors show it; the name itself for a field the vocabulary lacks. */
export const labelOf = (name: string): string => fieldInfo(name)?.label ?? name;
