import { describe, expect, it } from 'vitest';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import SettingsPage from './Settings';
import { fakeApi, renderPage, signInAs, type Call } from '../test/harness';

const settings = {
  tenantId: 'default',
  defaultSecurityProfile: 2,
  fileUrlSchemes: null,
  fileUrlHosts: null,
  effectiveFileUrlSchemes: ['https', 'ftps', 'sftp'],
};

describe('settings page', () => {
  it('shows a viewer the settings and nothing to change them with', async () => {
    signInAs('viewer');
    fakeApi(({ method, url }: Call) => (method === 'GET' && url.pathname === '/api/v1/settings' ? { body: settings } : undefined));
    renderPage(<SettingsPage />);
    expect(await screen.findByRole('radio', { name: /^2: a password/ })).toBeChecked();
    expect(screen.getByRole('checkbox', { name: "Use the deployment's default schemes" })).toBeChecked();
    expect(screen.getByText(/In force: https, ftps, sftp/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Save settings' })).not.toBeInTheDocument();
    expect(screen.getByText('Only an admin changes the settings.')).toBeInTheDocument();
  });

  it("sends an admin's change and shows the API's 422 under the field it names", async () => {
    signInAs('admin');
    const { calls } = fakeApi(({ method, url, body }: Call) => {
      if (url.pathname !== '/api/v1/settings') return undefined;
      if (method === 'GET') return { body: settings };
      const hosts = (body as { fileUrlHosts: string[] }).fileUrlHosts;
      if (hosts.some((h) => h.includes('_'))) {
        return {
          status: 422,
          body: {
            title: 'Unprocessable Content',
            status: 422,
            errors: [{ field: 'body.fileUrlHosts.0', message: 'String should match pattern' }],
          },
        };
      }
      return { body: { ...settings, ...(body as object), effectiveFileUrlSchemes: ['https'] } };
    });
    renderPage(<SettingsPage />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('radio', { name: /^0: no password/ }));
    await user.click(screen.getByRole('checkbox', { name: "Use the deployment's default schemes" }));
    await user.click(screen.getByRole('checkbox', { name: 'ftps' }));
    await user.click(screen.getByRole('checkbox', { name: 'sftp' }));
    const hosts = screen.getByRole('textbox', { name: 'URL hosts' });
    await user.type(hosts, 'bad_host{Enter}');
    await user.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(await screen.findByText('bad_host: String should match pattern')).toBeInTheDocument();
    expect(hosts).toHaveAttribute('aria-invalid', 'true');
    expect(calls.at(-1)?.body).toEqual({ defaultSecurityProfile: 0, fileUrlSchemes: ['https'], fileUrlHosts: ['bad_host'] });


    await user.type(hosts, '{Backspace}*.files.example.com{Enter}');
    await user.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(await screen.findByRole('status')).toHaveTextContent('Saved.');
    expect(screen.queryByText('bad_host: String should match pattern')).not.toBeInTheDocument();
    expect(calls.at(-1)?.body).toEqual({ defaultSecurityProfile: 0, fileUrlSchemes: ['https'], fileUrlHosts: ['*.files.example.com'] });
  });
});
