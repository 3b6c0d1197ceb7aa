import React, { KeyboardEvent } from 'react';
import { EditorField, EditorRow } from '@grafana/plugin-ui';
import { Combobox, Input, Stack, Text } from '@grafana/ui';

import {
  DETECTIONS,
  DetectionParameter,
  detectionById,
  explain,
  parameterProblem,
  parametersOf,
} from '../../detections';
import { useDraft } from '../useDraft';
import { QueryDraft } from './useQueryDraft';

const detectionOptions = [
  { label: 'Every detection', value: '', description: 'Each at its defaults: the findings table of a dashboard' },
  ...DETECTIONS.map((d) => ({ label: d.name, value: d.id, description: `${d.technique} · ${explain(d)}` })),
];

/** The security signals' input, in place of a search's: the detection, what it looks for, and its parameters. */
export function SignalsInput({ draft }: { draft: QueryDraft }) {
  const { query, change } = draft;
  const detection = detectionById(query.detection);
  return (
    <EditorRow>
      <Stack direction="column" gap={1}>
        <EditorField label="Detection" tooltip="What the signals look for over the events of the time range">
          <Combobox<string>
            id="signals-detection"
            width={36}
            options={detectionOptions}
            value={query.detection ?? ''}
            // Parameters belong to one detection: a new one starts from its defaults.
            onChange={(o) => change({ detection: o.value || undefined, parameters: undefined })}
          />
        </EditorField>
        <Text variant="bodySmall" color="secondary">
          {detection
            ? `${detection.technique} ${detection.techniqueName} · ${detection.severity} · ${explain(detection, query.parameters)}`
            : 'Runs every detection at its defaults and the data source’s working hours, known ranges and baseline. Pick one to set its parameters.'}
        </Text>
        {detection && (
          <Stack gap={2} wrap="wrap" alignItems="flex-start">
            {parametersOf(detection).map((p) => (
              <ParameterInput key={`${detection.id}.${p.name}`} draft={draft} parameter={p} />
            ))}
          </Stack>
        )}
      </Stack>
    </EditorRow>
  );
}

/** One parameter: empty takes the default (or the data source's setting), applied on leaving the box, run on Enter. */
function ParameterInput({ draft, parameter }: { draft: QueryDraft; parameter: DetectionParameter }) {
  const applied = draft.query.parameters?.[parameter.name] ?? '';
  const [value, setValue] = useDraft(applied);
  const problem = parameterProblem(parameter, value);
  const apply = (run: boolean) => {
    if (problem) {
      return;
    }
    const parameters = { ...draft.query.parameters };
    if (value.trim() === '') {
      delete parameters[parameter.name];
    } else {
      parameters[parameter.name] = value.trim();
    }
    const patch = { parameters: Object.keys(parameters).length ? parameters : undefined };
    if (run) {
      draft.run(patch);
    } else if (value.trim() !== applied) {
      draft.change(patch);
    }
  };
  return (
    <EditorField label={parameter.label} tooltip={parameter.help} invalid={Boolean(problem)} error={problem}>
      <Input
        id={`signals-${parameter.name}`}
        width={parameter.kind ? 14 : 30}
        placeholder={parameter.default ?? 'data source setting'}
        value={value}
        onChange={(e) => setValue(e.currentTarget.value)}
        onBlur={() => apply(false)}
        onKeyDown={(e: KeyboardEvent<HTMLInputElement>) => e.key === 'Enter' && apply(true)}
      />
    </EditorField>
  );
}
