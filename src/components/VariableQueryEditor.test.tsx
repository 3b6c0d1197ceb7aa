import React from 'react';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { VariableQueryEditor } from './VariableQueryEditor';

describe('VariableQueryEditor', () => {
  it('picks the field whose values the variable lists', async () => {
    const onChange = jest.fn();
    render(<VariableQueryEditor query={{ refId: 'v', field: '' }} onChange={onChange} />);
    await userEvent.click(screen.getByRole('combobox'));
    await userEvent.click(await screen.findByText('Actor IP'));
    expect(onChange).toHaveBeenCalledWith({ refId: 'v', field: 'actor_ip' });
  });
});
