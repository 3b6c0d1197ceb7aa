import React, { KeyboardEvent } from 'react';
import { EditorField } from '@grafana/plugin-ui';
import { Input } from '@grafana/ui';

import { QueryDraft, TypedOption } from './useQueryDraft';

interface Props {
  draft: QueryDraft;
  option: TypedOption;
  label: string;
  tooltip?: string;
  id: string;
  type?: 'number';
  width: number;
  placeholder?: string;
}

/** A typed option: shown as typed, checked in place, applied on leaving the box and run on Enter. */
export function OptionInput({ draft, option, label, tooltip, id, type, width, placeholder }: Props) {
  const [value, setValue] = draft.typed[option];
  const problem = draft.problems[option];
  return (
    <EditorField label={label} tooltip={tooltip} invalid={Boolean(problem)} error={problem}>
      <Input
        id={id}
        type={type}
        width={width}
        placeholder={placeholder}
        value={value}
        onChange={(e) => setValue(e.currentTarget.value)}
        onBlur={() =>
          !problem &&
          draft.drafted[option] !== draft.applied[option] &&
          draft.change({ [option]: draft.drafted[option] })
        }
        onKeyDown={(e: KeyboardEvent<HTMLInputElement>) => e.key === 'Enter' && draft.run()}
      />
    </EditorField>
  );
}
