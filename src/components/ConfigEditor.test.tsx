import React from 'react';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { DataSourceSettings } from '@grafana/data';

import { SETTING_LIMITS } from '../limits';
import { ConfigEditor } from './ConfigEditor';
import { CBCOptions, CBCSecureJsonData } from '../types';

function settings(jsonData: CBCOptions, configured = false): DataSourceSettings<CBCOptions, CBCSecureJsonData> {
  return {
    id: 1,
    uid: 'cbc',
    orgId: 1,
    name: 'CBC',
    type: 'seed-cbcauditlogs-datasource',
    typeName: '',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    readOnly: false,
    withCredentials: false,
    jsonData,
    secureJsonFields: { apiSecret: configured },
  } as unknown as DataSourceSettings<CBCOptions, CBCSecureJsonData>;
}

describe('ConfigEditor', () => {
  it('says which key and permissions to create', () => {
    render(<ConfigEditor options={settings({})} onOptionsChange={jest.fn()} />);
    expect(screen.getByText(/READ on org.audits/)).toBeInTheDocument();
  });

  it('saves the org key and API ID as typed', async () => {
    const onChange = jest.fn();
    render(<ConfigEditor options={settings({ region: 'prod02' })} onOptionsChange={onChange} />);
    await userEvent.type(screen.getByPlaceholderText('ABCD1234'), 'K');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ jsonData: { region: 'prod02', orgKey: 'K' } }));
  });

  it('shows the URL and plain-HTTP switch only for a custom region', () => {
    const { rerender } = render(<ConfigEditor options={settings({ region: 'prod02' })} onOptionsChange={jest.fn()} />);
    expect(screen.queryByPlaceholderText('https://')).not.toBeInTheDocument();
    rerender(
      <ConfigEditor options={settings({ region: 'custom', url: 'http://sim:8080' })} onOptionsChange={jest.fn()} />
    );
    expect(screen.getByPlaceholderText('https://')).toHaveValue('http://sim:8080');
    expect(screen.getByText('Allow plain HTTP')).toBeInTheDocument();
  });

  it('shows what the backend would refuse next to each setting', async () => {
    render(
      <ConfigEditor
        options={settings({
          region: 'custom',
          url: 'sim:8080',
          orgKey: 'abcd 1234!',
          concurrency: -3,
          queuePollSeconds: 5,
        })}
        onOptionsChange={jest.fn()}
      />
    );
    expect(screen.getByText('Must start with https://')).toBeInTheDocument();
    expect(screen.getByText('Letters and digits only, e.g. ABCD1234.')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Expand section Advanced settings' }));
    expect(screen.getByText('A whole number, not negative; leave it empty for the default.')).toBeInTheDocument();
    expect(screen.getByText('At least 10.')).toBeInTheDocument();
  });

  it('takes the paths of the GeoIP databases', async () => {
    const onChange = jest.fn();
    render(<ConfigEditor options={settings({ region: 'prod02' })} onOptionsChange={onChange} />);
    await userEvent.click(document.getElementById('config-geoip-city')!);
    await userEvent.paste('/var/lib/grafana/geoip/city.mmdb');
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ jsonData: { region: 'prod02', geoipCityDatabase: '/var/lib/grafana/geoip/city.mmdb' } })
    );
  });

  it('checks a URL being typed once it is left, not from its first letter', async () => {
    const onChange = jest.fn();
    const { rerender } = render(<ConfigEditor options={settings({ region: 'custom' })} onOptionsChange={onChange} />);
    await userEvent.type(screen.getByPlaceholderText('https://'), 'h');
    rerender(<ConfigEditor options={settings({ region: 'custom', url: 'h' })} onOptionsChange={onChange} />);
    expect(screen.queryByText(/Not a URL/)).not.toBeInTheDocument();
    await userEvent.tab();
    expect(screen.getByText(/Not a URL/)).toBeInTheDocument();
  });

  it('groups the advanced settings, and the history settings rest while the history cache is off', async () => {
    render(
      <ConfigEditor
        options={settings({ region: 'prod02', disableHistoryCache: true, requestBudget: 5000 })}
        onOptionsChange={jest.fn()}
      />
    );
    await userEvent.click(screen.getByRole('button', { name: 'Expand section Advanced settings' }));
    for (const group of ['Requests to Carbon Black Cloud', 'History cache', 'Live queue', 'Several Grafana replicas']) {
      expect(screen.getAllByText(group).length).toBeGreaterThan(0);
    }
    expect(document.getElementById('config-settleMinutes')).toBeDisabled();
    expect(document.getElementById('config-queuePollSeconds')).toBeEnabled();
    expect(screen.getByText(/Above 1000, the most Carbon Black Cloud allows per source address/)).toBeInTheDocument();
  });

  it("shows each numeric setting's default, the one the backend applies, as its placeholder", async () => {
    render(<ConfigEditor options={settings({ region: 'prod02' })} onOptionsChange={jest.fn()} />);
    await userEvent.click(screen.getByRole('button', { name: 'Expand section Advanced settings' }));
    const keys = Object.keys(SETTING_LIMITS) as Array<keyof typeof SETTING_LIMITS>;
    expect(keys).toHaveLength(14);
    for (const key of keys) {
      expect(document.getElementById(`config-${key}`)).toHaveAttribute(
        'placeholder',
        String(SETTING_LIMITS[key]?.default)
      );
    }
    expect(document.getElementById('config-requestBudget')).toHaveAttribute('placeholder', '600');
  });

  it('turns the history cache off and on again', async () => {
    const onChange = jest.fn();
    const { rerender } = render(<ConfigEditor options={settings({ region: 'prod02' })} onOptionsChange={onChange} />);
    await userEvent.click(screen.getByRole('button', { name: 'Expand section Advanced settings' }));
    const toggle = screen.getByRole('switch', { name: /^History cache/ });
    expect(toggle).toBeChecked();
    await userEvent.click(toggle);
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ jsonData: { region: 'prod02', disableHistoryCache: true } })
    );
    rerender(
      <ConfigEditor options={settings({ region: 'prod02', disableHistoryCache: true })} onOptionsChange={onChange} />
    );
    await userEvent.click(screen.getByRole('switch', { name: /^History cache/ }));
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ jsonData: { region: 'prod02', disableHistoryCache: undefined } })
    );
  });

  it('never shows a saved secret, and can reset it', async () => {
    const onChange = jest.fn();
    render(<ConfigEditor options={settings({ region: 'prod02' }, true)} onOptionsChange={onChange} />);
    expect(screen.getByDisplayValue('configured')).toBeDisabled();
    await userEvent.click(screen.getByRole('button', { name: 'Reset' }));
    expect(onChange).toHaveBeenCalledWith(
      expect.objectContaining({ secureJsonFields: { apiSecret: false }, secureJsonData: { apiSecret: '' } })
    );
  });

  it('lists every known region', async () => {
    render(<ConfigEditor options={settings({})} onOptionsChange={jest.fn()} />);
    await userEvent.click(screen.getByRole('combobox'));
    expect(await screen.findByText('Europe (Prod06)')).toBeInTheDocument();
    expect(screen.getByText('US GovCloud')).toBeInTheDocument();
    expect(screen.getByText('Custom URL')).toBeInTheDocument();
  });

  it('offers the three credential types with the fields each needs', async () => {
    const onChange = jest.fn();
    const { rerender } = render(<ConfigEditor options={settings({ region: 'prod02' })} onOptionsChange={onChange} />);
    expect(screen.getByPlaceholderText('ABCDEFGHIJ')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('radio', { name: 'OAuth app' }));
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ jsonData: { region: 'prod02', authType: 'oauthApp' } })
    );

    rerender(
      <ConfigEditor options={settings({ region: 'prod02', authType: 'oauthApp' })} onOptionsChange={onChange} />
    );
    expect(screen.queryByPlaceholderText('ABCDEFGHIJ')).not.toBeInTheDocument();
    expect(screen.getByPlaceholderText("The OAuth app's ID")).toBeInTheDocument();
    expect(screen.getByPlaceholderText("The OAuth app's secret")).toBeInTheDocument();
    expect(screen.getByPlaceholderText('https://console.cloud.vmware.com')).toBeInTheDocument();

    rerender(
      <ConfigEditor options={settings({ region: 'prod02', authType: 'apiToken' })} onOptionsChange={onChange} />
    );
    await userEvent.type(screen.getByPlaceholderText(/API Tokens/), 'T');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ secureJsonData: { apiToken: 'T' } }));
  });
});
