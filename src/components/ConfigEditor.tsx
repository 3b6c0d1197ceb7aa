import React, { useState } from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { ConfigSection, ConfigSubSection, DataSourceDescription } from '@grafana/plugin-ui';
import { Combobox, Divider, Field, Input, RadioButtonGroup, SecretInput, Switch, Text } from '@grafana/ui';

import regions from '../regions.json';
import { SETTING_LIMITS } from '../limits';
import { settingsProblems } from '../validation';
import { AuthType, CBCOptions, CBCSecureJsonData, CUSTOM_REGION } from '../types';

type Props = DataSourcePluginOptionsEditorProps<CBCOptions, CBCSecureJsonData>;

const regionOptions = [
  ...regions.map((r) => ({ label: r.label, value: r.id, description: r.url })),
  { label: 'Custom URL', value: CUSTOM_REGION, description: 'Another console host' },
];

/** A numeric setting: jsonData key, label and what it does; limits.json holds its bounds and default. */
interface NumberSetting {
  key: keyof CBCOptions;
  label: string;
  description: string;
}

/** Requests to Carbon Black Cloud. */
const requestSettings: NumberSetting[] = [
  { key: 'timeoutSeconds', label: 'Timeout (seconds)', description: 'Per request to Carbon Black Cloud.' },
  { key: 'concurrency', label: 'Concurrency', description: 'Requests in flight at once for one data source.' },
  {
    key: 'maxRecords',
    label: 'Max records',
    description: 'Most records a count or a sort by a field other than time reads.',
  },
  {
    key: 'requestBudget',
    label: 'Request budget (per 5 minutes)',
    description: 'Carbon Black Cloud allows 1000 per 5 minutes per source IP; keep room for other tools.',
  },
  {
    key: 'cacheSeconds',
    label: 'Cache time (seconds)',
    description: 'Identical queries within this time are fetched once.',
  },
];

/** The history cache. */
const historySettings: NumberSetting[] = [
  {
    key: 'settleMinutes',
    label: 'Settle time (minutes)',
    description:
      'An hour of history ended longer ago than this is read once and kept: cover how late events reach search.',
  },
  {
    key: 'alertSettleMinutes',
    label: 'Alert settle time (minutes)',
    description: 'Alert rules reuse only history read this long after it ended, so a late event still fires them.',
  },
  {
    key: 'historyMaxAgeMinutes',
    label: 'History max age (minutes)',
    description: 'Kept history is read again after this, so an event indexed late is not missing for long.',
  },
  {
    key: 'historyCacheMB',
    label: 'History cache (MB)',
    description: 'Memory the kept history may take; the least recently used hours go first.',
  },
];

/** The live queue. */
const queueSettings: NumberSetting[] = [
  {
    key: 'queuePollSeconds',
    label: 'Queue poll interval (seconds)',
    description: 'How often the live queue is read; at least 10.',
  },
  {
    key: 'queueBackfillMinutes',
    label: 'Queue backfill (minutes)',
    description: 'Searched on start so a restart leaves no gap.',
  },
  {
    key: 'queueBufferSize',
    label: 'Queue buffer (events)',
    description: 'New events kept in memory for the live queue.',
  },
  { key: 'queueBufferHours', label: 'Queue buffer (hours)', description: 'How long new events stay in memory.' },
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

/** Requests Carbon Black Cloud allows per source address in 5 minutes. */
const CBC_REQUESTS_PER_IP = 1000;

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
  // The URL is checked once it has been left (or was saved), not from its first letter.
  const [urlLeft, setUrlLeft] = useState(Boolean(jsonData.url));
  const problem = (key: keyof CBCOptions) => {
    const error = key === 'url' && !urlLeft ? undefined : problems[key];
    return { invalid: Boolean(error), error };
  };

  const setJson = (patch: Partial<CBCOptions>) => onOptionsChange({ ...options, jsonData: { ...jsonData, ...patch } });
  /** A numeric setting's field, with its default as placeholder; disabled while what it tunes is off. */
  const numberField = (a: NumberSetting, disabled = false) => (
    <Field
      key={a.key}
      label={a.label}
      description={
        a.key === 'requestBudget' && (jsonData.requestBudget ?? 0) > CBC_REQUESTS_PER_IP ? (
          <Text color="warning">
            Above {CBC_REQUESTS_PER_IP}, the most Carbon Black Cloud allows per source address in 5 minutes: expect
            429s.
          </Text>
        ) : (
          a.description
        )
      }
      disabled={disabled}
      {...problem(a.key)}
    >
      <Input
        id={`config-${a.key}`}
        type="number"
        min={SETTING_LIMITS[a.key]?.min ?? 0}
        max={SETTING_LIMITS[a.key]?.max}
        width={20}
        value={(jsonData[a.key] as number | undefined) ?? ''}
        placeholder={String(SETTING_LIMITS[a.key]?.default)}
        onChange={(e) => setJson({ [a.key]: e.currentTarget.value === '' ? undefined : Number(e.currentTarget.value) })}
      />
    </Field>
  );
  /** A text setting in jsonData: its field, with the backend's rule for it checked in place. */
  const textField = (f: {
    key:
      | 'url'
      | 'orgKey'
      | 'apiId'
      | 'clientId'
      | 'cspUrl'
      | 'redisAddress'
      | 'redisKeyPrefix'
      | 'geoipCityDatabase'
      | 'geoipAsnDatabase'
      | 'workingHours'
      | 'timeZone'
      | 'knownRanges';
    id: string;
    label: string;
    description?: string;
    required?: boolean;
    placeholder: string;
    width?: number;
  }) => (
    <Field label={f.label} required={f.required} description={f.description} {...problem(f.key)}>
      <Input
        id={f.id}
        width={f.width ?? 50}
        value={jsonData[f.key] ?? ''}
        onChange={(e) => setJson({ [f.key]: e.currentTarget.value.trim() })}
        onBlur={() => f.key === 'url' && setUrlLeft(true)}
        placeholder={f.placeholder}
      />
    </Field>
  );

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
            {textField({
              key: 'url',
              id: 'config-url',
              label: 'URL',
              required: true,
              description: "The console's address, e.g. https://defense.conferdeploy.net",
              placeholder: 'https://',
            })}
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
        {textField({
          key: 'orgKey',
          id: 'config-org-key',
          label: 'Org key',
          required: true,
          description: 'Shown under Settings > API Access, e.g. ABCD1234.',
          placeholder: 'ABCD1234',
        })}
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
            {textField({
              key: 'apiId',
              id: 'config-api-id',
              label: 'API ID',
              required: true,
              placeholder: 'ABCDEFGHIJ',
            })}
            {secret('apiSecret', 'config-api-secret', 'API secret key', "The API key's secret")}
          </>
        )}
        {authType === 'oauthApp' && (
          <>
            {textField({
              key: 'clientId',
              id: 'config-client-id',
              label: 'Client ID',
              required: true,
              description: 'Cloud Services console > Organization > OAuth Apps.',
              placeholder: "The OAuth app's ID",
            })}
            {secret('clientSecret', 'config-client-secret', 'Client secret', "The OAuth app's secret")}
          </>
        )}
        {authType === 'apiToken' &&
          secret('apiToken', 'config-api-token', 'API token', 'Cloud Services console > My Account > API Tokens')}
        {authType !== 'apiKey' &&
          textField({
            key: 'cspUrl',
            id: 'config-csp-url',
            label: 'Cloud Services URL',
            description: 'Where OAuth apps and API tokens sign in.',
            placeholder: DEFAULT_CSP,
          })}
      </ConfigSection>
      <Divider />
      <ConfigSection
        title="GeoIP"
        description="Optional: where each actor IP is (country, city, coordinates, network), from MaxMind-format databases on the Grafana host, such as GeoLite2 City and ASN or DB-IP Lite City. Without them, addresses are shown as they are."
      >
        {textField({
          key: 'geoipCityDatabase',
          id: 'config-geoip-city',
          label: 'City or Country database',
          placeholder: '/var/lib/grafana/geoip/dbip-city-lite.mmdb',
        })}
        {textField({
          key: 'geoipAsnDatabase',
          id: 'config-geoip-asn',
          label: 'ASN database',
          placeholder: '/var/lib/grafana/geoip/GeoLite2-ASN.mmdb',
        })}
      </ConfigSection>
      <Divider />
      <ConfigSection
        title="Security signals"
        description="What is usual for your organisation, which the detections compare with: when it works, which addresses are its own, and how far back usual reaches. A signals query may set each in its place."
      >
        {textField({
          key: 'workingHours',
          id: 'config-working-hours',
          label: 'Working hours',
          description:
            'Days and hours, e.g. Mon-Fri 08:00-18:00; hours past midnight, e.g. 22:00-06:00, belong to the day they start.',
          placeholder: 'Mon-Fri 07:00-19:00',
          width: 30,
        })}
        {textField({
          key: 'timeZone',
          id: 'config-time-zone',
          label: 'Time zone',
          description: 'Of the working hours: an IANA name such as Europe/Berlin.',
          placeholder: 'UTC',
          width: 30,
        })}
        {textField({
          key: 'knownRanges',
          id: 'config-known-ranges',
          label: 'Known ranges',
          description:
            'Your offices and VPN, in CIDR notation, separated by commas. Sign-ins from them are never a new source or travel; API keys changed from elsewhere are a signal.',
          placeholder: '203.0.113.0/24, 198.51.100.7',
        })}
        {numberField({
          key: 'baselineDays',
          label: 'Baseline (days)',
          description: 'How many days before the time range count as usual, for new sources and a first Live Response.',
        })}
      </ConfigSection>
      <Divider />
      <ConfigSection title="Advanced settings" isCollapsible isInitiallyOpen={false}>
        <ConfigSubSection title="Requests to Carbon Black Cloud">
          {requestSettings.map((a) => numberField(a))}
        </ConfigSubSection>
        <ConfigSubSection title="History cache">
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
          {historySettings.map((a) => numberField(a, jsonData.disableHistoryCache))}
        </ConfigSubSection>
        <ConfigSubSection title="Live queue">{queueSettings.map((a) => numberField(a))}</ConfigSubSection>
        <ConfigSubSection title="Several Grafana replicas">
          {textField({
            key: 'redisAddress',
            id: 'config-redis-address',
            label: 'Redis address',
            description:
              'Only for several Grafana replicas: host:port of a Redis they share, so that one replica drains the queue, all share one request budget and one cache. Set in grafana.ini ([plugin.seed-cbcauditlogs-datasource] redis_address), that one wins.',
            placeholder: 'redis:6379',
            width: 40,
          })}
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
              {textField({
                key: 'redisKeyPrefix',
                id: 'config-redis-prefix',
                label: 'Redis key prefix',
                description: "Keeps this Grafana's keys apart in a Redis shared with others.",
                placeholder: 'cbcauditlogs',
                width: 40,
              })}
            </>
          )}
        </ConfigSubSection>
      </ConfigSection>
    </>
  );
}
