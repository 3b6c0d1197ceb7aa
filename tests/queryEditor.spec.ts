import { test, expect } from '@grafana/plugin-e2e';

test.skip(
  !process.env.GRAFANA_URL,
  'Set GRAFANA_URL to a Grafana running this plugin (docker compose up --build) to run the e2e specs.'
);

test('a panel query of failed logins returns events', async ({ panelEditPage, readProvisionedDataSource, page }) => {
  const ds = await readProvisionedDataSource({ fileName: 'datasources.yml' });
  await panelEditPage.datasource.set(ds.name);
  const row = panelEditPage.getQueryEditorRow('A');
  await row.getByText('Table').click();
  await row.getByRole('radio', { name: 'Code' }).click();
  await row.locator('.monaco-editor').first().click();
  await page.keyboard.type('description:"Login failed"');
  const request = panelEditPage.waitForQueryDataRequest();
  await page.keyboard.press('Shift+Enter');
  await expect(await request).toBeTruthy();
  await panelEditPage.setVisualization('Table');
  await expect(panelEditPage.refreshPanel()).toBeOK();
  await expect(panelEditPage.panel.data).toContainText(['Login failed']);
});

test('Explore shows audit events as logs', async ({ explorePage, readProvisionedDataSource }) => {
  const ds = await readProvisionedDataSource({ fileName: 'datasources.yml' });
  await explorePage.datasource.set(ds.name);
  await expect(explorePage.runQuery()).toBeOK();
});
