// A page that renders the plugin's editors with Grafana's theme, outside Grafana, for the browser check.
import React, { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { createTheme, dateTime, DataSourceSettings, TimeRange } from '@grafana/data';
import { ThemeContext } from '@grafana/ui';

import { ConfigEditor } from '../../src/components/ConfigEditor';
import { QueryEditor } from '../../src/components/QueryEditor';
import type { DataSource, ExportStatus } from '../../src/datasource';
import { CBCOptions, CBCQuery, CBCSecureJsonData } from '../../src/types';

const theme = createTheme({ colors: { mode: 'dark' } });
const range: TimeRange = { from: dateTime().subtract(1, 'day'), to: dateTime(), raw: { from: 'now-24h', to: 'now' } };

let polls = 0;
/** Stands in for the backend: suggestions and an export that completes after two polls. */
const datasource = {
  fieldValues: async (field: string) =>
    field === 'actor' ? ['alice.admin@acme.example', 'bob.analyst@acme.example'] : ['203.0.113.10', '198.51.100.7'],
  startExport: async (): Promise<ExportStatus> => ({
    id: 42,
    status: 'CREATED',
    numTotal: 0,
    numCompleted: 0,
    format: 'csv',
  }),
  exportStatus: async (): Promise<ExportStatus> => {
    polls++;
    return polls < 2
      ? { id: 42, status: 'IN_PROGRESS', numTotal: 1200, numCompleted: 600, format: 'csv' }
      : { id: 42, status: 'COMPLETED', numTotal: 1200, numCompleted: 1200, format: 'csv' };
  },
  exportDownloadUrl: (id: number) => `/api/datasources/uid/cbc/resources/exports/${id}/download`,
} as unknown as DataSource;

function Page() {
  const [options, setOptions] = useState({
    id: 1,
    uid: 'cbc',
    orgId: 1,
    name: 'Carbon Black Cloud',
    type: 'seed-cbcauditlogs-datasource',
    access: 'proxy',
    jsonData: { region: 'prod02' },
    secureJsonFields: {},
  } as unknown as DataSourceSettings<CBCOptions, CBCSecureJsonData>);
  const [query, setQuery] = useState<CBCQuery>({ refId: 'A', queryType: 'search', format: 'logs', limit: 1000 });
  const [runs, setRuns] = useState(0);
  return (
    <ThemeContext.Provider value={theme}>
      <div
        style={{
          background: theme.colors.background.primary,
          color: theme.colors.text.primary,
          padding: 16,
          fontFamily: theme.typography.fontFamily,
        }}
      >
        <section id="config" style={{ maxWidth: 900 }}>
          <ConfigEditor options={options} onOptionsChange={setOptions} />
        </section>
        <hr />
        <section id="query" style={{ maxWidth: 1100 }}>
          <QueryEditor
            query={query}
            onChange={setQuery}
            onRunQuery={() => setRuns((n) => n + 1)}
            datasource={datasource}
            range={range}
          />
        </section>
        <pre data-testid="state">{JSON.stringify({ query, runs, jsonData: options.jsonData })}</pre>
      </div>
    </ThemeContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(<Page />);
