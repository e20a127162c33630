import { expect, test } from '@playwright/test';
import { channels, signIn } from './helpers';
import { chinaApiPort, chinaEmulatorPort } from './playwright.config';

// Azure operated by 21Vianet, as the emulator serves it: tokens name the issuer
// https://login.partner.microsoftonline.cn/{tid}/v2.0, not the authority's host. The API tells
// the SPA the cloud in /config.json, and the SPA checks the ID token against that issuer.
const base = `http://localhost:${chinaApiPort}`;
const tenant = '4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';

test('in Azure China the SPA accepts that cloud issuer and alice gets her channels', async ({ page }) => {
  const config = await (await page.request.get(`${base}/config.json`)).json();
  expect([config.cloud, config.authority]).toEqual(['china', `http://127.0.0.1:${chinaEmulatorPort}`]);
  const answered = page.waitForResponse((r) => r.url().includes('/oauth2/v2.0/token') && r.status() === 200);
  await signIn(page, 'Alice Moreau', base);
  await expect(channels(page)).toHaveText(['All Call', 'Dispatch Ops', 'Fire North Tac']);
  const tokens = await (await answered).json();
  const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  const issuer = `https://login.partner.microsoftonline.cn/${tenant}/v2.0`;
  expect([claims(tokens.id_token).iss, claims(tokens.access_token).iss]).toEqual([issuer, issuer]);

  await page.getByRole('button', { name: 'Check this sign-in' }).click();
  await expect(page.locator('.diagnostics').getByRole('status')).toHaveText('Every check passed.');
});
