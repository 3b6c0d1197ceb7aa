import { test, expect } from '@grafana/plugin-e2e';

import { CBCOptions, CBCSecureJsonData } from '../src/types';

// These specs need a Grafana with the plugin and the simulator, e.g. `docker compose up --build`.
test.skip(
  !process.env.GRAFANA_URL,
  'Set GRAFANA_URL to a Grafana running this plugin (docker compose up --build) to run the e2e specs.'
);

test('"Save & test" succeeds against the provisioned simulator', async ({
  readProvisionedDataSource,
  gotoDataSourceConfigPage,
}) => {
  const ds = await readProvisionedDataSource<CBCOptions, CBCSecureJsonData>({ fileName: 'datasources.yml' });
  const configPage = await gotoDataSourceConfigPage(ds.uid);
  await expect(configPage.saveAndTest()).toBeOK();
});

test('"Save & test" names a missing org key', async ({
  createDataSourceConfigPage,
  readProvisionedDataSource,
  page,
}) => {
  const ds = await readProvisionedDataSource<CBCOptions, CBCSecureJsonData>({ fileName: 'datasources.yml' });
  const configPage = await createDataSourceConfigPage({ type: ds.type });
  await expect(page.getByText(/READ on org.audits/)).toBeVisible();
  await expect(configPage.saveAndTest()).not.toBeOK();
  await expect(configPage).toHaveAlert('error', { hasText: 'org key is missing' });
});
