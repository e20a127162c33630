import { createHash, createSign, generateKeyPairSync } from 'node:crypto';
import { expect, test, type Page, type Request, type Response } from '@playwright/test';
import { authorizeRequests, channels, signIn, signOut } from './helpers';
import { implicitApiPort, implicitEmulatorPort, implicitRefusedApiPort } from './playwright.config';

// An organisation on the implicit flow (its opt-in, CHANNELS_SPA_IMPLICIT_FLOW=true), against a
// registration that allows the implicit grant and issues 10-minute access tokens.
const base = `http://localhost:${implicitApiPort}`;
const emulator = `http://127.0.0.1:${implicitEmulatorPort}`;
const tenant = '4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';

/** The address Entra sends the browser back to after the account is picked: /sso#tokens. */
function answers(page: Page) {
  const locations: string[] = [];
  page.on('response', (response: Response) => {
    const location = response.headers()['location'];
    if (response.url().includes('/oauth2/v2.0/authorize') && location?.includes('/sso#')) locations.push(location);
  });
  return locations;
}

/** Every request the page sends to Entra's token endpoint: the implicit flow sends none. */
function tokenRequests(page: Page) {
  const requests: Request[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/oauth2/v2.0/token')) requests.push(request);
  });
  return requests;
}

const params = (request: Request) => new URL(request.url()).searchParams;

test('an organisation on the implicit flow signs in with tokens from the fragment, kept in memory only', async ({ page }) => {
  const authorizations = authorizeRequests(page);
  const locations = answers(page);
  const tokens = tokenRequests(page);
  // When the app first asks for its configuration, the fragment has already left the address bar.
  const hashes: string[] = [];
  await page.route('**/config.json', async (route) => {
    hashes.push(await page.evaluate(() => location.hash));
    await route.continue();
  });
  await signIn(page, 'Alice Moreau', base);
  await expect(channels(page)).toHaveText(['All Call', 'Dispatch Ops', 'Fire North Tac']);

  const asked = params(authorizations[0]);
  expect([asked.get('response_type'), asked.get('response_mode')]).toEqual(['id_token token', 'fragment']);
  expect(asked.get('scope')).toBe('openid profile api://6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d/UserProfile.ReadWrite');
  expect(asked.get('nonce')).toBeTruthy();
  expect(asked.has('code_challenge')).toBe(false);
  expect(tokens).toHaveLength(0);

  // The tokens came in the fragment; it is gone from the address bar, and the access token is
  // in no storage.
  const answer = new URLSearchParams(new URL(locations[0]).hash.slice(1));
  const [accessToken, idToken] = [answer.get('access_token'), answer.get('id_token')];
  expect(accessToken && idToken).toBeTruthy();
  expect(hashes.length).toBeGreaterThan(0);
  expect(hashes.every((hash) => hash === '')).toBe(true);
  expect(page.url()).toBe(`${base}/`);
  const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }));
  expect(stored).not.toContain(accessToken!.slice(-32)); // signatures: the tokens' last part
  expect(stored).not.toContain(idToken!.slice(-32));

  // The diagnostics flag the flow as the weaker configuration, with the reason and the way out.
  await page.getByRole('button', { name: 'Check this sign-in' }).click();
  const failed = page.getByRole('list', { name: 'Checks' }).locator('li.fail');
  await expect(failed).toHaveCount(1);
  await expect(failed).toContainText('Signed in with the authorization code flow and PKCE');
  await expect(failed).toContainText('the implicit flow (weaker)');
  await expect(failed).toContainText('RFC 9700');
});

test('the implicit flow renews with a top-level silent sign-in, before expiry and at a reload, never in a loop', async ({ page }) => {
  await page.clock.install();
  const authorizations = authorizeRequests(page);
  const tokens = tokenRequests(page);
  await signIn(page, 'Alice Moreau', base);
  await expect(channels(page)).toHaveCount(3);

  // Five minutes before the 10-minute token expires, the tab itself goes back to Entra with
  // prompt=none for alice, and Entra's session answers unseen.
  const renewed = page.waitForResponse((r) => r.url().endsWith('/api/me') && r.status() === 200);
  await page.clock.fastForward('00:05:30');
  await expect.poll(() => authorizations.length).toBe(2);
  await renewed; // the page Entra sent back asked the API with its new token
  await expect(channels(page)).toHaveCount(3);
  const renewal = params(authorizations[1]);
  expect([renewal.get('prompt'), renewal.get('login_hint'), renewal.get('response_type')]).toEqual([
    'none',
    'alice@contoso.example',
    'id_token token',
  ]);
  expect(authorizations[1].isNavigationRequest() && authorizations[1].frame() === page.mainFrame()).toBe(true);
  expect(page.frames()).toHaveLength(1); // no hidden iframe
  expect(tokens).toHaveLength(0);

  // A reload loses the token (memory only); within ten minutes of the last silent sign-in the
  // tab does not go again: it says why and asks.
  await page.reload();
  await expect(page.getByRole('status')).toContainText('Your organisation uses the implicit flow');
  await expect(page.getByRole('status')).toContainText('less than 10 minutes ago');
  expect(authorizations).toHaveLength(2);

  // Later, signed in again by hand (Entra's session, for alice: login_hint), a reload signs in
  // again silently.
  await page.clock.fastForward('00:10:00');
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  await expect(channels(page)).toHaveCount(3);
  expect(params(authorizations[2]).get('login_hint')).toBe('alice@contoso.example');
  await page.reload();
  await expect(channels(page)).toHaveCount(3);
  expect(authorizations.map((r) => params(r).get('prompt'))).toEqual([null, 'none', null, 'none']);

  // Signing out ends it: a reload then stays signed out, with no silent try.
  await signOut(page);
  await page.reload();
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  expect(authorizations).toHaveLength(4);
});

test('what the user typed and did not save is still in the form after the implicit flow renews, and a sign-out forgets it', async ({ page }) => {
  await page.clock.install();
  const authorizations = authorizeRequests(page);
  await signIn(page, 'Alice Moreau', base);
  const form = page.getByRole('form', { name: 'Your preferences' });
  await form.getByLabel('Display name').fill('Alice (night shift)');
  await form.getByLabel('Default channel').selectOption('Fire North Tac');

  // The renewal takes the tab to Entra and back: a new page, with what she typed.
  const renewed = page.waitForResponse((r) => r.url().endsWith('/api/me') && r.status() === 200);
  await page.clock.fastForward('00:05:30');
  await expect.poll(() => authorizations.length).toBe(2);
  await renewed;
  await expect(form.getByLabel('Display name')).toHaveValue('Alice (night shift)');
  await expect(form.getByLabel('Default channel')).toHaveValue('Fire North Tac');
  await expect(form.getByRole('status')).toHaveText('What you typed earlier is back: not saved yet.');

  // Signed out and in again, the form shows what the API holds for her, not what she typed.
  await signOut(page);
  const me = page.waitForResponse((r) => r.url().endsWith('/api/me') && r.status() === 200);
  await signIn(page, 'Alice Moreau', base);
  const held = (await (await me).json()).member?.preferences ?? {};
  await expect(form.getByLabel('Display name')).toHaveValue(held.display_name ?? '');
  expect(held.display_name).not.toBe('Alice (night shift)');
  await expect(form.getByRole('status')).toHaveCount(0);
});

test('a fragment replayed, or forged with the right state and nonce, is refused like a code', async ({ page }) => {
  const locations = answers(page);
  await signIn(page, 'Alice Moreau', base);
  await expect(channels(page)).toHaveCount(3);

  // The same answer again (the back button, a link): nothing is pending under its state.
  await page.goto(locations[0]);
  await expect(page.getByRole('alert')).toContainText('does not belong to a sign-in started in this tab');
  expect(page.url()).toBe(`${base}/`);

  // A forged answer to this tab's own sign-in: its state and nonce, an at_hash that matches,
  // the emulator's key id, and a signature by another key.
  const jwks = await (await page.request.get(`${emulator}/${tenant}/discovery/v2.0/keys`)).json();
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const apiCalls: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/api/')) apiCalls.push(request.url());
  });
  await page.route('**/oauth2/v2.0/authorize?**', async (route) => {
    const asked = new URL(route.request().url()).searchParams;
    const accessToken = 'forged-access-token';
    const atHash = createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: `${emulator}/${tenant}/v2.0`, aud: asked.get('client_id'), tid: tenant, exp: now + 3600, iat: now,
      nonce: asked.get('nonce'), at_hash: atHash, oid: 'a11ce000-0000-4000-8000-000000000001',
      preferred_username: 'alice@contoso.example', name: 'Mallory',
    };
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const signingInput = `${encode({ alg: 'RS256', typ: 'JWT', kid: jwks.keys[0].kid })}.${encode(claims)}`;
    const signature = createSign('RSA-SHA256').update(signingInput).sign(privateKey).toString('base64url');
    const fragment = new URLSearchParams({
      access_token: accessToken, token_type: 'Bearer', expires_in: '3600',
      id_token: `${signingInput}.${signature}`, state: asked.get('state')!,
    });
    await route.fulfill({ status: 302, headers: { location: `${base}/sso#${fragment}` } });
  });
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(base);
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  await expect(page.getByRole('alert')).toContainText("The ID token's signature does not verify with the tenant's published key");
  await expect(page.getByRole('heading', { name: 'Mallory' })).toHaveCount(0);
  expect(apiCalls).toHaveLength(0); // the forged access token never reached the API

  // Entra's own answer with another genuine access token swapped in (the first sign-in's): the
  // ID token's at_hash names the one it was issued with.
  const earlier = new URLSearchParams(new URL(locations[0]).hash.slice(1)).get('access_token')!;
  await page.unroute('**/oauth2/v2.0/authorize?**');
  await page.route('**/oauth2/v2.0/authorize?**', async (route) => {
    const response = await route.fetch({ maxRedirects: 0 });
    const location = response.headers()['location'];
    if (!location?.includes('#access_token=')) return route.fulfill({ response });
    const answer = new URL(location);
    const fragment = new URLSearchParams(answer.hash.slice(1));
    fragment.set('access_token', earlier);
    await route.fulfill({ status: 302, headers: { location: `${base}/sso#${fragment}` } });
  });
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(base);
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  await page.getByRole('button', { name: /Alice Moreau/ }).click();
  await expect(page.getByRole('alert')).toContainText('The ID token was not issued with this access token');
  expect(apiCalls).toHaveLength(0);
});

test('a registration that does not allow the implicit grant is explained (AADSTS700054)', async ({ page }) => {
  await page.goto(`http://localhost:${implicitRefusedApiPort}/`);
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('This organisation signs in with the implicit flow');
  await expect(alert).toContainText('AADSTS700054:');
  await expect(alert).toContainText('Implicit grant and hybrid flows');
});
