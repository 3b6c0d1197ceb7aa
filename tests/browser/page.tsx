// A page that renders the plugin's editors with Grafana's theme, global styles and icons, outside Grafana, for
// the browser check. ?theme=light|dark picks the theme.
import React, { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { CoreApp, createTheme, dateTime, DataSourceSettings, TimeRange } from '@grafana/data';
import { GlobalStyles, ThemeContext } from '@grafana/ui';

import { ConfigEditor } from '../../src/components/ConfigEditor';
import { QueryEditor } from '../../src/components/QueryEditor';
import { CBCOptions, CBCQuery, CBCSecureJsonData, EditorApi, ExportStatus } from '../../src/types';

const mode = new URLSearchParams(window.location.search).get('theme') === 'light' ? 'light' : 'dark';
const theme = createTheme({ colors: { mode } });
const range: TimeRange = {
  from: dateTime('2024-04-16T20:00:00Z'),
  to: dateTime('2024-04-17T20:00:00Z'),
  raw: { from: 'now-24h', to: 'now' },
};

let polls = 0;
/** Stands in for the backend: suggestions and an export that completes after two polls. */
const datasource = {
  fieldValues: async (field: string) =>
    field === 'actor' ? ['alice.admin@acme.example', 'bob.analyst@acme.example'] : ['203.0.113.10', '198.51.100.7'],
  startExport: async (): Promise<ExportStatus> => ({ id: 42, status: 'CREATED', format: 'csv' }),
  exportStatus: async (): Promise<ExportStatus> => {
    polls++;
    return polls < 2
      ? { id: 42, status: 'IN_PROGRESS', numTotal: 495315, numCompleted: 183000, format: 'csv' }
      : { id: 42, status: 'COMPLETED', numTotal: 495315, numCompleted: 495315, format: 'csv' };
  },
  exportDownloadUrl: (id: number) => `/api/datasources/uid/cbc/resources/exports/${id}/download`,
} satisfies EditorApi;

/** One query editor and the state it reports, for the check to read. */
function Editor({ id, app, initial }: { id: string; app: CoreApp; initial: CBCQuery }) {
  const [query, setQuery] = useState<CBCQuery>(initial);
  const [runs, setRuns] = useState(0);
  return (
    <section id={id} style={{ maxWidth: 1100, marginBottom: 24 }}>
      <QueryEditor
        query={query}
        onChange={setQuery}
        onRunQuery={() => setRuns((n) => n + 1)}
        datasource={datasource}
        range={range}
        app={app}
      />
      <pre data-testid={`${id}-state`} style={{ fontSize: 10 }}>
        {JSON.stringify({ query, runs })}
      </pre>
    </section>
  );
}

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
  return (
    <ThemeContext.Provider value={theme}>
      <GlobalStyles />
      <div style={{ padding: 16 }}>
        <section id="config" style={{ maxWidth: 900 }}>
          <ConfigEditor options={options} onOptionsChange={setOptions} />
        </section>
        <pre data-testid="config-state">{JSON.stringify({ jsonData: options.jsonData })}</pre>
        <hr />
        <Editor
          id="query"
          app={CoreApp.Dashboard}
          initial={{ refId: 'A', queryType: 'search', format: 'logs', limit: 1000 }}
        />
        <Editor id="alerting" app={CoreApp.UnifiedAlerting} initial={{ refId: 'A', queryType: 'count' }} />
      </div>
    </ThemeContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(<Page />);
