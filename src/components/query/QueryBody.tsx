import React, { ComponentProps, ComponentType } from 'react';
import { EditorRow } from '@grafana/plugin-ui';

import { OptionsGroup } from '../OptionsGroup';
import { CountOptions } from './CountOptions';
import { Mode } from './modes';
import { QueueNote, QueueOptions } from './QueueOptions';
import { SearchInput } from './SearchInput';
import { SearchOptions } from './SearchOptions';
import { SignalsInput } from './SignalsInput';
import { SignalsOptions, signalsFormat } from './SignalsOptions';
import { countSummary, searchSummary } from './summary';
import { QueryDraft } from './useQueryDraft';

/** Each query type's options and their one-line summary. */
const options: Record<Mode, { Options: ComponentType<{ draft: QueryDraft }>; summary: (d: QueryDraft) => string }> = {
  logs: { Options: SearchOptions, summary: (d) => searchSummary(d.query) },
  table: { Options: SearchOptions, summary: (d) => searchSummary(d.query) },
  count: { Options: CountOptions, summary: (d) => countSummary(d.query) },
  queue: { Options: QueueOptions, summary: (d) => `Format: ${d.query.format ?? 'logs'}` },
  signals: {
    Options: SignalsOptions,
    summary: (d) => `Format: ${signalsFormat(d.query) === 'table' ? 'findings' : 'over time'}`,
  },
};

/** Whether an option is wrong: the group opens to show it. A wrong query text shows where it is typed. */
const optionProblem = (d: QueryDraft) => Boolean(d.problems.limit || d.problems.interval || d.problems.topN);

type Props = ComponentProps<typeof SearchInput> & { mode: Mode };

/** The body of the editor for a query type: what it matches (the live queue matches everything, the signals pick
 * a detection), then its
 * options under one group, which stays open or closed as the user left it when the type changes. */
export function QueryBody({ mode, ...input }: Props) {
  const { Options, summary } = options[mode];
  return (
    <>
      {mode === 'queue' && <QueueNote />}
      {mode === 'signals' && <SignalsInput draft={input.draft} />}
      {mode !== 'queue' && mode !== 'signals' && <SearchInput {...input} />}
      <EditorRow>
        <OptionsGroup summary={summary(input.draft)} open={optionProblem(input.draft)}>
          <Options draft={input.draft} />
        </OptionsGroup>
      </EditorRow>
    </>
  );
}
