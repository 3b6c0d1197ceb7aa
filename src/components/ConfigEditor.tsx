import React, { ChangeEvent } from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { ConfigSection, DataSourceDescription } from '@grafana/plugin-ui';
import { Combobox, Divider, Field, Input, RadioButtonGroup, SecretInput, Switch } from '@grafana/ui';

import regions from '../regions.json';
import { settingsProblems, SETTING_LIMITS } from '../validation';
import { AuthType, CBCOptions, CBCSecureJsonData, CUSTOM_REGION } from '../types';

type Props = DataSourcePluginOptionsEditorProps<CBCOptions, CBCSecureJsonData>;

const regionOptions = [
  ...regions.map((r) => ({ label: r.label, value: r.id, description: r.url })),
  { label: 'Custom URL', value: CUSTOM_REGION, description: 'Another console host' },
];

/** Advanced settings: jsonData key, label, what it does, and the backend's default. */
const advanced: Array<{ key: keyof CBCOptions; label: string; description: string; placeholder: number }> = [
  {
    key: 'timeoutSeconds',
    label: 'Timeout (seconds)',
    description: 'Per request to Carbon Black Cloud.',
    placeholder: 30,
  },
  {
    key: 'concurrency',
    label: 'Concurrency',
    description: 'Requests in flight at once for one data source.',
    placeholder: 4,
  },
  {
    key: 'maxRecords',
    label: 'Max records',
    description: 'Most records a count or a sort by a field other than time reads.',
    placeholder: 1000000,
  },
  {
    key: 'requestBudget',
    label: 'Request budget (per 5 minutes)',
    description: 'Carbon Black Cloud allows 1000 per 5 minutes per source IP; keep room for other tools.',
    placeholder: 600,
  },
  {
    key: 'cacheSeconds',
    label: 'Cache time (seconds)',
    description: 'Identical queries within this time are fetched once.',
    placeholder: 30,
  },
  {
    key: 'settleMinutes',
    label: 'Settle time (minutes)',
    description:
      'An hour of history ended longer ago than this is read once and kept: cover how late events reach search.',
    placeholder: 10,
  },
  {
    key: 'alertSettleMinutes',
    label: 'Alert settle time (minutes)',
    description: 'Alert rules reuse only history read this long after it ended, so a late event still fires them.',
    placeholder: 30,
  },
  {
    key: 'historyMaxAgeMinutes',
    label: 'History max age (minutes)',
    description: 'Kept history is read again after this, so an event indexed late is not missing for long.',
    placeholder: 60,
  },
  {
    key: 'historyCacheMB',
    label: 'History cache (MB)',
    description: 'Memory the kept history may take; the least recently used hours go first.',
    placeholder: 96,
  },
  {
    key: 'queuePollSeconds',
    label: 'Queue poll interval (seconds)',
    description: 'How often the live queue is read; at least 10.',
    placeholder: 60,
  },
  {
    key: 'queueBackfillMinutes',
    label: 'Queue backfill (minutes)',
    description: 'Searched on start so a restart leaves no gap.',
    placeholder: 15,
  },
  {
    key: 'queueBufferSize',
    label: 'Queue buffer (events)',
    description: 'New events kept in memory for the live queue.',
    placeholder: 100000,
  },
  {
    key: 'queueBufferHours',
    label: 'Queue buffer (hours)',
    description: 'How long new events stay in memory.',
    placeholder: 24,
  },
];

const authTypes: Array<{ label: string; value: AuthType; description: string }> = [
  { label: 'API key', value: 'apiKey', description: 'A custom API key: API ID and secret (Settings > API Access).' },
  {
    label: 'OAuth app',
    value: 'oauthApp',
    description: 'An OAuth app of VMware Cloud Services (client credentials), for orgs whose logins it manages.',
  },
  {
    label: 'API token',
    value: 'apiToken',
    description: 'A personal API token of VMware Cloud Services, for orgs whose logins it manages.',
  },
];

const DEFAULT_CSP = 'https://console.cloud.vmware.com';

export function ConfigEditor({ options, onOptionsChange }: Props) {
  const { jsonData, secureJsonFields } = options;
  const authType = jsonData.authType ?? 'apiKey';
  const secret = (key: keyof CBCSecureJsonData, id: string, label: string, placeholder: string, required = true) => (
    <Field label={label} required={required}>
      <SecretInput
        id={id}
        width={50}
        isConfigured={Boolean(secureJsonFields?.[key])}
        value={options.secureJsonData?.[key] ?? ''}
        placeholder={placeholder}
        onChange={(e) =>
          onOptionsChange({ ...options, secureJsonData: { ...options.secureJsonData, [key]: e.currentTarget.value } })
        }
        onReset={() =>
          onOptionsChange({
            ...options,
            secureJsonFields: { ...secureJsonFields, [key]: false },
            secureJsonData: { ...options.secureJsonData, [key]: '' },
          })
        }
      />
    </Field>
  );
  const region = jsonData.region ?? (jsonData.url ? CUSTOM_REGION : undefined);
  // The backend's rules, shown next to the setting at fault before Save & test.
  const problems = settingsProblems({ ...jsonData, region });
  const problem = (key: keyof CBCOptions) => ({ invalid: Boolean(problems[key]), error: problems[key] });

  const setJson = (patch: Partial<CBCOptions>) => onOptionsChange({ ...options, jsonData: { ...jsonData, ...patch } });
  const text = (key: keyof CBCOptions) => (e: ChangeEvent<HTMLInputElement>) =>
    setJson({ [key]: e.currentTarget.value.trim() });
  const number = (key: keyof CBCOptions) => (e: ChangeEvent<HTMLInputElement>) => {
    const value = e.currentTarget.value === '' ? undefined : Number(e.currentTarget.value);
    setJson({ [key]: value });
  };

  return (
    <>
      <DataSourceDescription
        dataSourceName="Carbon Black Cloud Audit Logs"
        docsLink="https://developer.carbonblack.com/reference/carbon-black-cloud/platform/latest/audit-logs/"
        hasRequiredFields
      />
      <Divider />
      <ConfigSection title="Connection" description="The Carbon Black Cloud console your organization signs in to.">
        <Field
          label="Region"
          required
          description="Pick the host of your console, or a custom URL."
          {...problem('region')}
        >
          <Combobox
            id="config-region"
            width={50}
            options={regionOptions}
            value={region ?? null}
            placeholder="Choose a region"
            onChange={(o) => setJson({ region: o.value, url: o.value === CUSTOM_REGION ? jsonData.url : undefined })}
          />
        </Field>
        {region === CUSTOM_REGION && (
          <>
            <Field
              label="URL"
              required
              description="The console's address, e.g. https://defense.conferdeploy.net"
              {...problem('url')}
            >
              <Input
                id="config-url"
                width={50}
                value={jsonData.url ?? ''}
                onChange={text('url')}
                placeholder="https://"
              />
            </Field>
            <Field
              label="Allow plain HTTP"
              description="Only for the Carbon Black Cloud simulator or a local proxy; Carbon Black Cloud itself is HTTPS only."
            >
              <Switch
                id="config-insecure"
                value={jsonData.allowInsecureHttp ?? false}
                onChange={(e) => setJson({ allowInsecureHttp: e.currentTarget.checked })}
              />
            </Field>
          </>
        )}
      </ConfigSection>
      <Divider />
      <ConfigSection
        title="Authentication"
        description="Create a custom API key (Settings > API Access) whose access level has READ on org.audits, and READ on jobs.status for exports, or an OAuth app or API token with the same access where VMware Cloud Services manages your logins. Use a credential for Grafana alone: reading the audit log queue takes events away from any other reader of the same credential."
      >
        <Field
          label="Org key"
          required
          description="Shown under Settings > API Access, e.g. ABCD1234."
          {...problem('orgKey')}
        >
          <Input
            id="config-org-key"
            width={50}
            value={jsonData.orgKey ?? ''}
            onChange={text('orgKey')}
            placeholder="ABCD1234"
          />
        </Field>
        <Field label="Credential type" description={authTypes.find((a) => a.value === authType)?.description}>
          <RadioButtonGroup
            aria-label="Credential type"
            options={authTypes}
            value={authType}
            onChange={(value) => setJson({ authType: value })}
          />
        </Field>
        {authType === 'apiKey' && (
          <>
            <Field label="API ID" required {...problem('apiId')}>
              <Input
                id="config-api-id"
                width={50}
                value={jsonData.apiId ?? ''}
                onChange={text('apiId')}
                placeholder="ABCDEFGHIJ"
              />
            </Field>
            {secret('apiSecret', 'config-api-secret', 'API secret key', "The API key's secret")}
          </>
        )}
        {authType === 'oauthApp' && (
          <>
            <Field label="Client ID" required description="Cloud Services console > Organization > OAuth Apps.">
              <Input
                id="config-client-id"
                width={50}
                value={jsonData.clientId ?? ''}
                onChange={text('clientId')}
                placeholder="The OAuth app's ID"
              />
            </Field>
            {secret('clientSecret', 'config-client-secret', 'Client secret', "The OAuth app's secret")}
          </>
        )}
        {authType === 'apiToken' &&
          secret('apiToken', 'config-api-token', 'API token', 'Cloud Services console > My Account > API Tokens')}
        {authType !== 'apiKey' && (
          <Field label="Cloud Services URL" description="Where OAuth apps and API tokens sign in.">
            <Input
              id="config-csp-url"
              width={50}
              value={jsonData.cspUrl ?? ''}
              onChange={text('cspUrl')}
              placeholder={DEFAULT_CSP}
            />
          </Field>
        )}
      </ConfigSection>
      <Divider />
      <ConfigSection title="Advanced settings" isCollapsible isInitiallyOpen={false}>
        <Field
          label="History cache"
          description="Read each closed hour of history once and reuse it on every refresh. Off, every refresh reads the whole time range."
        >
          <Switch
            id="config-history-cache"
            value={!jsonData.disableHistoryCache}
            onChange={(e) => setJson({ disableHistoryCache: e.currentTarget.checked ? undefined : true })}
          />
        </Field>
        <Field
          label="Redis address"
          description="Only for several Grafana replicas: host:port of a Redis they share, so that one replica drains the queue, all share one request budget and one cache. Set in grafana.ini ([plugin.seed-cbcauditlogs-datasource] redis_address), that one wins."
          {...problem('redisAddress')}
        >
          <Input
            id="config-redis-address"
            width={40}
            value={jsonData.redisAddress ?? ''}
            placeholder="redis:6379"
            onChange={text('redisAddress')}
          />
        </Field>
        {jsonData.redisAddress && (
          <>
            {secret(
              'redisPassword',
              'config-redis-password',
              'Redis password',
              'Empty when Redis asks for none',
              false
            )}
            <Field label="Redis over TLS">
              <Switch
                id="config-redis-tls"
                value={jsonData.redisTls ?? false}
                onChange={(e) => setJson({ redisTls: e.currentTarget.checked || undefined })}
              />
            </Field>
            <Field
              label="Redis key prefix"
              description="Keeps this Grafana's keys apart in a Redis shared with others."
            >
              <Input
                id="config-redis-prefix"
                width={40}
                value={jsonData.redisKeyPrefix ?? ''}
                placeholder="cbcauditlogs"
                onChange={text('redisKeyPrefix')}
              />
            </Field>
          </>
        )}
        {advanced.map((a) => (
          <Field key={a.key} label={a.label} description={a.description} {...problem(a.key)}>
            <Input
              id={`config-${a.key}`}
              type="number"
              min={SETTING_LIMITS[a.key]?.min ?? 0}
              max={SETTING_LIMITS[a.key]?.max}
              width={20}
              value={(jsonData[a.key] as number | undefined) ?? ''}
              placeholder={String(a.placeholder)}
              onChange={number(a.key)}
            />
          </Field>
        ))}
      </ConfigSection>
    </>
  );
}
