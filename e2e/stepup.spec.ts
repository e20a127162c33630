import { expect, test, type Page } from '@playwright/test';
import { signIn } from './helpers';

// Step-up: the demo API requires the authentication context c1 to save preferences, and the
// demo tenant's policy protects c1 with MFA. The SPA answers the API's claims challenge with one
// sign-in that asks for those claims, keeps what the user typed, and saves once back.

function preferences(page: Page) {
  return page.getByRole('form', { name: 'Your preferences' });
}

test('alice saves her preferences after one step-up through MFA, and a second save needs none', async ({ page }) => {
  await signIn(page, 'Alice Moreau');
  const form = preferences(page);
  await form.getByLabel('Display name').fill('Alice M.');
  await form.getByLabel('Default channel').selectOption('Dispatch Ops');

  const stepUp = page.waitForRequest(/\/oauth2\/v2\.0\/authorize\?/);
  await form.getByRole('button', { name: 'Save preferences' }).click();
  const request = new URL((await stepUp).url());
  expect(JSON.parse(request.searchParams.get('claims')!)).toEqual({
    access_token: { acrs: { essential: true, value: 'c1' }, xms_cc: { values: ['cp1'] } },
  });
  expect(request.searchParams.get('login_hint')).toBe('alice@contoso.example');
  await expect(page.getByRole('heading', { name: 'Approve sign-in request' })).toBeVisible();
  await page.getByRole('button', { name: 'Approve' }).click();

  // Back, the save completes with what she typed.
  await expect(preferences(page).getByRole('status')).toHaveText('Preferences saved.');
  await expect(preferences(page).getByLabel('Display name')).toHaveValue('Alice M.');
  await expect(preferences(page).getByLabel('Default channel')).toHaveValue('Dispatch Ops');

  // A second save in the same session: the token already carries c1, no sign-in.
  const signIns: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/oauth2/v2.0/authorize')) signIns.push(r.url());
  });
  await preferences(page).getByLabel('Display name').fill('Alice Moreau-Ng');
  const saved = page.waitForResponse((r) => r.url().endsWith('/api/me/profile') && r.request().method() === 'PUT');
  await preferences(page).getByRole('button', { name: 'Save preferences' }).click();
  expect((await saved).status()).toBe(200);
  await expect(preferences(page).getByRole('status')).toHaveText('Preferences saved.');
  expect(signIns).toEqual([]);

  // Stored: a reload (renewed by the refresh token) shows them.
  await page.reload();
  await expect(preferences(page).getByLabel('Display name')).toHaveValue('Alice Moreau-Ng');
});

test('a second challenge for the same save is explained, not answered with another sign-in', async ({ page }) => {
  await signIn(page, 'Bob Okafor');
  // Whatever the SPA asks for, Entra is asked for the client capabilities only: no c1 comes back.
  await page.route(/\/oauth2\/v2\.0\/authorize\?/, (route) => {
    const url = new URL(route.request().url());
    if (url.searchParams.get('claims')?.includes('acrs')) {
      url.searchParams.set('claims', '{"access_token":{"xms_cc":{"values":["cp1"]}}}');
    }
    return route.continue({ url: url.toString() });
  });
  const signIns: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/oauth2/v2.0/authorize')) signIns.push(r.url());
  });
  await preferences(page).getByLabel('Display name').fill('Bob O.');
  await preferences(page).getByRole('button', { name: 'Save preferences' }).click();
  const refusal = preferences(page).getByRole('alert');
  await expect(refusal).toContainText('still asks for a stronger sign-in (authentication context c1)');
  await expect(refusal).toContainText('Conditional Access policy that targets the authentication context c1');
  await expect(preferences(page).getByLabel('Display name')).toHaveValue('Bob O.');
  expect(signIns).toHaveLength(1);
});
