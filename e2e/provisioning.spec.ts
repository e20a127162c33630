import { execFileSync } from 'node:child_process';
import { expect, test, type APIRequestContext } from '@playwright/test';
import { channels, signIn } from './helpers';
import { provisioningApiPort, provisioningDatabase, provisioningEmulatorPort, target } from './playwright.config';

// SCIM provisioning through the browser: the emulator plays Entra's provisioning service against
// the sixth API (its own emulator and database), with a token made by `channels-api scim-token`.
// The database outlives a run, so nothing here assumes a first cycle: each cycle brings the API
// to what the directory says.

const base = `http://localhost:${provisioningApiPort}`;
const emulator = `http://127.0.0.1:${provisioningEmulatorPort}`;
let token = '';

test.beforeAll(() => {
  token = execFileSync(`${target}/debug/channels-api`, ['scim-token', 'create', '--label', 'e2e'], {
    env: { ...process.env, CHANNELS_DEMO: '1', CHANNELS_DATABASE_URL: provisioningDatabase },
    encoding: 'utf8',
  }).trim();
  expect(token).toMatch(/^channels-scim\./);
});

/** Runs the job's next provisioning cycle; expects the SCIM endpoint to have taken every request. */
async function cycle(request: APIRequestContext) {
  const response = await request.post(`${emulator}/_emulator/provisioning/cycle`, {
    headers: { 'x-emulator-control': '1' },
    data: { tenant: 'contoso.example', scim_url: `http://127.0.0.1:${provisioningApiPort}/scim/v2`, token },
  });
  expect(response.status()).toBe(200);
  const report = await response.json();
  expect(report.failures).toEqual([]);
  return report;
}

async function scope(request: APIRequestContext, upn: string, inScope: boolean) {
  const response = await request.post(`${emulator}/_emulator/provisioning/scope`, {
    headers: { 'x-emulator-control': '1' },
    data: { upn, in_scope: inScope },
  });
  expect(response.status()).toBe(200);
}

test('after a provisioning cycle dave sees the channels of his provisioned groups', async ({ page, request }) => {
  await scope(request, 'dave@contoso.example', true);
  await cycle(request);
  await signIn(page, 'Dave Ng', base);
  await expect(channels(page)).toHaveText(['Site 7 Patrol']);
  const notice = page.getByRole('note');
  await expect(notice).toHaveAttribute('data-code', 'provisioned_groups');
  await expect(notice).toContainText("channels from your organisation's provisioning");
  await expect(page.getByText('more groups than Entra puts in a token')).toHaveCount(0);
});

test('bob, disabled by a provisioning cycle, is refused with the explanation, and is back once enabled', async ({ page, request }) => {
  await scope(request, 'bob@contoso.example', true);
  await cycle(request);
  await signIn(page, 'Bob Okafor', base);
  await expect(channels(page)).toHaveText(['All Call', 'Police South Ops']);

  await scope(request, 'bob@contoso.example', false);
  const disabling = await cycle(request);
  expect(disabling.disabled_users).toBe(1);
  await page.reload();
  const refusal = page.getByRole('alert');
  await expect(refusal).toContainText("Your account was disabled by your organisation's provisioning");
  await expect(refusal).toContainText('Enterprise applications → Channels → Users and groups');
  await expect(channels(page)).toHaveCount(0);

  await scope(request, 'bob@contoso.example', true);
  await cycle(request);
  await page.reload();
  await expect(channels(page)).toHaveText(['All Call', 'Police South Ops']);
});
