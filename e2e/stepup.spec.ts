import { expect, test, type Page } from '@playwright/test';
import { signIn, signOutElsewhere } from './helpers';

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

  // What she types while a save is on its way is not taken for saved: a reload brings it back.
  let release = () => {};
  const answered = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/me/profile', async (route) => {
    await answered;
    await route.continue();
  });
  await preferences(page).getByLabel('Display name').fill('Alice M-N');
  await preferences(page).getByRole('button', { name: 'Save preferences' }).click();
  await expect(preferences(page).getByRole('status')).toHaveText('Saving…');
  await preferences(page).getByLabel('Display name').fill('Alice M-N, typed while saving');
  release();
  await expect(preferences(page).getByRole('status')).toHaveText('Preferences saved.');
  await page.reload();
  await expect(preferences(page).getByLabel('Display name')).toHaveValue('Alice M-N, typed while saving');
  await expect(preferences(page).getByRole('status')).toHaveText('What you typed earlier is back: not saved yet.');
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

test('a save waiting for its step-up resumes only for its own account, within ten minutes, and not after sign-out', async ({ page }) => {
  await signIn(page, 'Bob Okafor');
  await expect(preferences(page)).toBeVisible();
  const saves: string[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/api/me/profile') && r.method() === 'PUT') saves.push(r.postData() ?? '');
  });
  const tenant = '4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
  const bob = 'b0b00000-0000-4000-8000-000000000002';
  const alice = 'a11ce000-0000-4000-8000-000000000001';
  /** A save as the SPA keeps it while the step-up sign-in runs, `age` seconds old. */
  const waiting = (oid: string, age: number) =>
    page.evaluate(
      ([tid, oid, age]) =>
        sessionStorage.setItem(
          'channels.unsaved',
          JSON.stringify({
            preferences: { display_name: 'Waiting' },
            tid,
            oid,
            saving_since: Math.floor(Date.now() / 1000) - Number(age),
          }),
        ),
      [tenant, oid, String(age)],
    );
  const kept = async () => JSON.parse((await page.evaluate(() => sessionStorage.getItem('channels.unsaved'))) ?? 'null');

  // Another account's save is neither shown nor saved, and is forgotten.
  await waiting(alice, 0);
  await page.reload();
  await expect(preferences(page).getByLabel('Display name')).toHaveValue('');
  expect(saves).toEqual([]);
  expect(await kept()).toBeNull();

  // Bob's own from eleven minutes ago is not saved, but what he typed is back in the form.
  await waiting(bob, 660);
  await page.reload();
  await expect(preferences(page).getByLabel('Display name')).toHaveValue('Waiting');
  await expect(preferences(page).getByRole('status')).toHaveText('What you typed earlier is back: not saved yet.');
  expect(saves).toEqual([]);
  expect((await kept()).saving_since).toBeNull();

  // His own, just now: resumed once (and, as bob's token has no c1, the second challenge is
  // explained, not answered); a reload then shows it, unsaved, and does not save it again.
  await waiting(bob, 0);
  await page.reload();
  await expect(preferences(page).getByLabel('Display name')).toHaveValue('Waiting');
  await expect.poll(() => saves.length).toBe(1);
  expect(JSON.parse(saves[0])).toEqual({ display_name: 'Waiting', default_channel: '' });
  await expect(preferences(page).getByRole('alert')).toContainText('still asks for a stronger sign-in');
  await page.reload();
  await expect(preferences(page).getByRole('status')).toHaveText('What you typed earlier is back: not saved yet.');
  expect(saves).toHaveLength(1);

  // A sign-out forgets a waiting save.
  await waiting(bob, 0);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  expect(await kept()).toBeNull();
});

test('an account whose sign-in brought no object id keeps nothing of what it typed, nor is shown what another left', async ({ page }) => {
  // Every ID token loses its oid on its way to the SPA: the session cannot tell this account
  // from another such one.
  await page.route('**/oauth2/v2.0/token', async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    if (body.id_token) {
      const [header, payload, signature] = body.id_token.split('.');
      const { oid: _, ...claims } = JSON.parse(Buffer.from(payload, 'base64url').toString());
      body.id_token = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
    }
    await route.fulfill({ response, json: body });
  });
  await signIn(page, 'Bob Okafor');
  await preferences(page).getByLabel('Display name').fill('Typed by this account');
  expect(await page.evaluate(() => sessionStorage.getItem('channels.unsaved'))).toBeNull();

  // What another account without an oid would have left in the tab is not shown.
  await page.evaluate(() =>
    sessionStorage.setItem(
      'channels.unsaved',
      JSON.stringify({ preferences: { display_name: 'Typed by another' }, tid: '4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f', oid: '', saving_since: null }),
    ),
  );
  const me = page.waitForResponse((r) => r.url().endsWith('/api/me') && r.status() === 200);
  await page.reload();
  const held = (await (await me).json()).member?.preferences ?? {};
  await expect(preferences(page).getByLabel('Display name')).toHaveValue(held.display_name ?? '');
  expect(held.display_name ?? '').not.toMatch(/^Typed by/);
  expect(await page.evaluate(() => sessionStorage.getItem('channels.unsaved'))).toBeNull();
});

test('a save that answers after a sign-out elsewhere keeps nothing and starts no step-up', async ({ page, context }) => {
  await signIn(page, 'Bob Okafor');
  let release = () => {};
  const answered = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/me/profile', async (route) => {
    await answered;
    await route.continue();
  });
  const signIns: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/oauth2/v2.0/authorize')) signIns.push(r.url());
  });
  await preferences(page).getByLabel('Display name').fill('Bob, late');
  const challenge = page.waitForResponse((r) => r.url().endsWith('/api/me/profile'));
  await preferences(page).getByRole('button', { name: 'Save preferences' }).click();

  // Signed out in another tab (Entra's front-channel logout) while the save waits.
  await signOutElsewhere(context, page);
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  release();
  expect((await challenge).status()).toBe(401); // bob's token has no c1: a claims challenge
  await page.waitForTimeout(1000); // what the page would do with it
  expect(signIns).toEqual([]);
  expect(await page.evaluate(() => sessionStorage.getItem('channels.unsaved'))).toBeNull();
});
