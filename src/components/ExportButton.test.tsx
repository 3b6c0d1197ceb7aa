import React from 'react';
import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { dateTime, TimeRange } from '@grafana/data';

import { ExportApi, ExportStatus } from '../types';
import { ExportButton, progressText } from './ExportButton';

const range: TimeRange = { from: dateTime(1000), to: dateTime(2000), raw: { from: 'now-1h', to: 'now' } };

function job(status: ExportStatus['status'], numCompleted = 0): ExportStatus {
  return { id: 7, status, numTotal: 500, numCompleted, format: 'json' };
}

function setup(statuses: ExportStatus[], start: () => Promise<ExportStatus> = () => Promise.resolve(job('CREATED'))) {
  const exports = {
    startExport: jest.fn(start),
    exportStatus: jest.fn(() => Promise.resolve(statuses.shift()!)),
    exportDownloadUrl: (id: number) => `/api/datasources/uid/cbc/resources/exports/${id}/download`,
  };
  render(
    <ExportButton
      exports={exports as ExportApi}
      query={{ refId: 'A', query: 'flagged:true', limit: 10 }}
      range={range}
      pollMs={20}
    />
  );
  return exports;
}

describe('ExportButton', () => {
  const user = () => userEvent.setup({ delay: null });

  it('starts an export in the chosen format, shows progress and offers the download', async () => {
    const ds = setup([job('IN_PROGRESS', 200), job('COMPLETED', 500)]);
    const u = user();
    await u.click(screen.getByText('Export'));
    await u.click(screen.getByText('JSON'));
    await u.click(screen.getByText('Start export'));
    expect(ds.startExport).toHaveBeenCalledWith(expect.objectContaining({ query: 'flagged:true' }), 'json', range);
    expect(await screen.findByText('Exporting 200 of 500 events (40%)…')).toBeInTheDocument();
    expect(screen.getByRole('progressbar', { name: 'Export progress' })).toHaveAttribute('aria-valuenow', '40');
    const link = (await screen.findByText('Download 500 events (JSON)')).closest('a');
    expect(link).toHaveAttribute('href', '/api/datasources/uid/cbc/resources/exports/7/download');
    // Done: starting again is the secondary action, since each export is kept 30 days.
    const again = screen.getByRole('button', { name: 'Start another export' });
    expect(again.className).not.toEqual(link?.className);
    expect(screen.getByText(/1970-01-01T00:00:01.000Z to 1970-01-01T00:00:02.000Z: 500 events/)).toBeInTheDocument();
  });

  it('stops following when cancelled', async () => {
    const ds = setup([job('IN_PROGRESS', 10), job('IN_PROGRESS', 20)]);
    const u = user();
    await u.click(screen.getByText('Export'));
    await u.click(screen.getByText('Start export'));
    await u.click(screen.getByText('Cancel'));
    const calls = (ds.exportStatus as jest.Mock).mock.calls.length;
    await act(() => new Promise((resolve) => setTimeout(resolve, 100)));
    expect((ds.exportStatus as jest.Mock).mock.calls.length).toBe(calls);
    expect(screen.getByText('Start export')).toBeInTheDocument();
  });

  it('shows why an export could not start', async () => {
    setup([], () => Promise.reject({ data: { message: 'cannot sort by "nope"' } }));
    const u = user();
    await u.click(screen.getByText('Export'));
    await u.click(screen.getByText('Start export'));
    expect(await screen.findByText('cannot sort by "nope"')).toBeInTheDocument();
  });

  it('reports a failed job', async () => {
    setup([{ ...job('FAILED'), message: 'Carbon Black Cloud could not complete the export; start it again' }]);
    const u = user();
    await u.click(screen.getByText('Export'));
    await u.click(screen.getByText('Start export'));
    expect(await screen.findByText('Export failed')).toBeInTheDocument();
    expect(screen.getByText(/start it again/)).toBeInTheDocument();
  });
});

describe('progressText', () => {
  it('shows a job without progress numbers as working, not as 0 of 0', () => {
    expect(progressText({ id: 1, status: 'IN_PROGRESS', format: 'csv' })).toBe('Exporting…');
    expect(progressText({ id: 1, status: 'IN_PROGRESS', format: 'csv', numTotal: 9, numCompleted: 3 })).toBe(
      'Exporting 3 of 9 events (33%)…'
    );
    expect(progressText({ id: 1, status: 'IN_PROGRESS', format: 'csv', numTotal: 495315, numCompleted: 183000 })).toBe(
      'Exporting 183,000 of 495,315 events (36%)…'
    );
  });
});
