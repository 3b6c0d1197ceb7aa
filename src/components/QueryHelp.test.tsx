import React from 'react';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { EXAMPLES, QueryHelp } from './QueryHelp';
import { syntaxProblem } from '../validation';

describe('QueryHelp', () => {
  it('offers each example, valid as written, and puts the clicked one in the code editor', async () => {
    const onClickExample = jest.fn();
    render(
      <QueryHelp
        datasource={{} as never}
        query={{ refId: 'A', criteria: { actor: ['a'] } }}
        onClickExample={onClickExample}
      />
    );
    for (const title of [
      'Failed logins',
      'API key changes',
      'Live Response sessions',
      'Policy edits',
      "One IP's activity",
    ]) {
      expect(screen.getByText(title)).toBeInTheDocument();
    }
    for (const e of EXAMPLES) {
      expect(syntaxProblem(e.query)).toBeUndefined();
    }
    await userEvent.setup({ delay: null }).click(screen.getByRole('button', { name: 'Use the Failed logins example' }));
    expect(onClickExample).toHaveBeenCalledWith({
      refId: 'A',
      criteria: { actor: ['a'] },
      query: 'description:"Login failed"',
      editorMode: 'code',
    });
  });
});
