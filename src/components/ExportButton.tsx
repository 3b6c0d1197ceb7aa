import React, { useEffect, useState } from 'react';
import { TimeRange } from '@grafana/data';
import { Alert, Button, LinkButton, RadioButtonGroup, Stack, Text, Tooltip, useTheme2 } from '@grafana/ui';

import { CBCQuery, ExportApi, ExportStatus } from '../types';

interface Props {
  exports: ExportApi;
  query: CBCQuery;
  range?: TimeRange;
  /** How often a running export's status is read. */
  pollMs?: number;
}

function errorText(err: unknown): string {
  const e = err as { data?: { message?: string }; message?: string };
  return e?.data?.message ?? e?.message ?? String(err);
}

/**
 * Exports every record the query matches over the time range (not only the displayed limit) through a CBC
 * export job: pick a format, follow the progress, download the file.
 */
export function ExportButton({ exports, query, range, pollMs = 1000 }: Props) {
  const [open, setOpen] = useState(false);
  const [format, setFormat] = useState<'csv' | 'json'>('csv');
  const [job, setJob] = useState<ExportStatus | undefined>();
  const [error, setError] = useState<string | undefined>();
  const following = job && (job.status === 'CREATED' || job.status === 'IN_PROGRESS');
  const done = job?.status === 'COMPLETED';

  useEffect(() => {
    if (!following || !job) {
      return;
    }
    const timer = setTimeout(() => {
      exports
        .exportStatus(job.id)
        .then(setJob)
        .catch((err) => {
          setError(errorText(err));
          setJob(undefined);
        });
    }, pollMs);
    return () => clearTimeout(timer);
  }, [exports, job, following, pollMs]);

  const start = async () => {
    if (!range) {
      setError('No time range to export.');
      return;
    }
    setError(undefined);
    try {
      setJob(await exports.startExport(query, format, range));
    } catch (err) {
      setError(errorText(err));
    }
  };

  if (!open) {
    return (
      <Tooltip content="Every event the query matches over the time range, as a CSV or JSON file. Carbon Black Cloud keeps each export for 30 days.">
        <Button size="sm" variant="secondary" icon="download-alt" onClick={() => setOpen(true)}>
          Export
        </Button>
      </Tooltip>
    );
  }
  return (
    <Stack direction="column" gap={1}>
      {range && (
        <Text variant="bodySmall" color="secondary">
          Exports every event the query matches from {range.from.toISOString()} to {range.to.toISOString()}
          {done && job.numTotal !== undefined ? `: ${job.numTotal.toLocaleString('en-US')} events` : ''}. Carbon Black
          Cloud keeps each export for 30 days.
        </Text>
      )}
      <Stack gap={1} alignItems="center" wrap="wrap">
        <Text variant="bodySmall">Export all matching events as</Text>
        <RadioButtonGroup
          aria-label="Export format"
          size="sm"
          options={[
            { label: 'CSV', value: 'csv' },
            { label: 'JSON', value: 'json' },
          ]}
          value={format}
          onChange={setFormat}
          disabled={following}
        />
        {!following && (
          <Button size="sm" variant={done ? 'secondary' : 'primary'} onClick={start}>
            {done ? 'Start another export' : 'Start export'}
          </Button>
        )}
        {following && job && (
          <>
            <ProgressBar job={job} />
            <Text variant="bodySmall" color="secondary">
              {progressText(job)}
            </Text>
            <Button size="sm" variant="secondary" onClick={() => setJob(undefined)}>
              Cancel
            </Button>
          </>
        )}
        {done && (
          <LinkButton size="sm" icon="download-alt" href={exports.exportDownloadUrl(job.id)} download>
            Download {job.numTotal?.toLocaleString('en-US') ?? ''} events ({job.format.toUpperCase()})
          </LinkButton>
        )}
        <Button size="sm" variant="secondary" fill="text" onClick={() => setOpen(false)}>
          Close
        </Button>
      </Stack>
      {following && (
        <Text variant="bodySmall" color="secondary">
          Cancel stops following the job here; Carbon Black Cloud finishes it and keeps it for 30 days.
        </Text>
      )}
      {job?.status === 'FAILED' && (
        <Alert severity="error" title="Export failed">
          {job.message}
        </Alert>
      )}
      {error && (
        <Alert severity="error" title="Export" onRemove={() => setError(undefined)}>
          {error}
        </Alert>
      )}
    </Stack>
  );
}

/** What an export's progress reads as: numbers once Carbon Black Cloud reports them, "working" before. */
export function progressText(job: ExportStatus): string {
  if (job.status === 'CREATED') {
    return 'Starting…';
  }
  if (job.numTotal === undefined || job.numCompleted === undefined) {
    return 'Exporting…';
  }
  const percent = job.numTotal > 0 ? Math.floor((job.numCompleted / job.numTotal) * 100) : 0;
  return `Exporting ${job.numCompleted.toLocaleString('en-US')} of ${job.numTotal.toLocaleString('en-US')} events (${percent}%)…`;
}

/** A bar of the share done, once Carbon Black Cloud reports numbers. */
function ProgressBar({ job }: { job: ExportStatus }) {
  const theme = useTheme2();
  const known = job.numTotal !== undefined && job.numCompleted !== undefined && job.numTotal > 0;
  const share = known ? Math.min(1, job.numCompleted! / job.numTotal!) : 0;
  return (
    <div
      role="progressbar"
      aria-label="Export progress"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={known ? Math.floor(share * 100) : undefined}
      style={{
        width: 160,
        height: 6,
        borderRadius: 3,
        background: theme.colors.background.secondary,
        overflow: 'hidden',
      }}
    >
      <div style={{ width: `${share * 100}%`, height: '100%', background: theme.colors.primary.main }} />
    </div>
  );
}
