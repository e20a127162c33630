import { expect, test, type Page, type Request } from '@playwright/test';
import { authorizeRequests, channels, expireRefreshTokens, sessionSid, signIn, signOut, signOutElsewhere } from './helpers';
import { emulatorPort, graphScopeApiPort, organisationsApiPort, policiesApiPort, policiesClientIds } from './playwright.config';

const silentRequests = (requests: Request[]) =>
  requests.filter((r) => r.url().includes('/oauth2/v2.0/authorize?') && new URL(r.url()).searchParams.get('prompt') === 'none');

test('past the 24-hour refresh limit the session comes back silently, and without a loop when it cannot', async ({
  page,
  context,
  request,
}) => {
  await page.clock.install();
  const authorizations = authorizeRequests(page);
  // The token endpoint's error codes, read before the page navigates away.
  const refusals: number[][] = [];
  await page.route('**/oauth2/v2.0/token', async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    if (body.error_codes) refusals.push(body.error_codes);
    await route.fulfill({ response, json: body });
  });
  await signIn(page, 'Alice Moreau');
  await expect(channels(page)).toHaveCount(3);

  // Entra's 24 hours are over: the refresh token is refused (AADSTS700084) and the tab goes
  // back to Entra with prompt=none; Entra's session cookie signs alice in again unseen.
  expect(await expireRefreshTokens(request)).toBeGreaterThan(0);
  await page.reload();
  await expect(channels(page)).toHaveCount(3);
  expect(refusals).toEqual([[700084]]);
  const silent = silentRequests(authorizations);
  expect(silent).toHaveLength(1);
  expect(new URL(silent[0].url()).searchParams.get('login_hint')).toBe('alice@contoso.example');
  expect(page.url()).toMatch(/\/$/);

  // That silent sign-in brought a session outliving the ten minutes between silent tries, so it
  // lifted the guard: ended again at once, the session comes back silently once more.
  await expireRefreshTokens(request);
  await page.reload();
  await expect(channels(page)).toHaveCount(3);
  expect(silentRequests(authorizations)).toHaveLength(2);

  // Later, with Entra's session gone too: one silent try, then the sign-in page with the reason.
  await expireRefreshTokens(request);
  await context.clearCookies();
  await page.clock.fastForward('00:11:00'); // past the ten minutes between silent tries
  await page.reload();
  await expect(page.getByRole('status')).toContainText('Your sign-in has ended');
  await expect(page.getByRole('status')).toContainText('AADSTS50058');
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  expect(silentRequests(authorizations)).toHaveLength(3);

  // Signed in again by hand, and refused again a minute later: within ten minutes of the last
  // silent try there is no other, only the sign-in page with the reason. Never a loop.
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  await page.getByRole('button', { name: /Alice Moreau/ }).click();
  await expect(channels(page)).toHaveCount(3);
  // That sign-in was for the account whose session ended: Entra is told whom (login_hint),
  // which matters when it holds several (AADSTS16000), and the user may still pick another.
  const again = new URL(authorizations[authorizations.length - 1].url()).searchParams;
  expect([again.get('prompt'), again.get('login_hint')]).toEqual([null, 'alice@contoso.example']);
  await expireRefreshTokens(request);
  await page.clock.fastForward('00:01:00');
  await page.reload();
  await expect(page.getByRole('status')).toContainText('Your sign-in has ended');
  expect(silentRequests(authorizations)).toHaveLength(3);
  expect(refusals).toEqual([[700084], [700084], [700084], [700084]]);
});

test('a silent sign-in that comes back with another account is refused, not adopted', async ({ page, request }) => {
  await signIn(page, 'Bob Okafor');
  const authorizations = authorizeRequests(page);
  // From now on the token endpoint answers a code redemption for someone else: Entra itself
  // refuses this (AADSTS16000), so the answer is changed on its way to the SPA, once. Only the
  // ids count: the impostor has Bob's sign-in name on another object (deleted and re-created).
  const impostors = [{ oid: '0dd0b0b0-0000-4000-8000-000000000001', preferred_username: 'bob@contoso.example' }];
  await page.route('**/oauth2/v2.0/token', async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    const impostor = body.id_token && impostors.shift();
    if (impostor) {
      const [header, payload, signature] = body.id_token.split('.');
      const claims = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), ...impostor };
      body.id_token = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
    }
    await route.fulfill({ response, json: body });
  });
  await expireRefreshTokens(request);
  await page.reload(); // refresh refused (AADSTS700084) → prompt=none with login_hint=bob
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('expected bob@contoso.example with oid ');
  await expect(alert).toContainText('(found bob@contoso.example with oid 0dd0b0b0-0000-4000-8000-000000000001)');
  expect(await page.evaluate(() => sessionStorage.getItem('channels.session'))).toBeNull();

  // "Try again" opens Entra's account picker (prompt=select_account): without it, Entra's
  // session would sign the same account in again.
  await alert.getByRole('button', { name: 'Try again' }).click();
  await page.getByRole('button', { name: /Bob Okafor/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Bob Okafor' })).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
  const prompts = authorizations.map((r) => new URL(r.url()).searchParams.get('prompt'));
  expect(prompts).toEqual(['none', 'select_account']);
});

test('a front-channel logout ends only the session it names, and a sign-out in one tab ends every tab', async ({ context }) => {
  const [first, second] = [await context.newPage(), await context.newPage()];
  await signIn(first, 'Bob Okafor');
  await signIn(second, 'Alice Moreau'); // a second Entra session in this browser
  const [bob, alice] = [await sessionSid(first), await sessionSid(second)];
  expect(bob).not.toBe(alice);
  const third = await context.newPage();
  const ignored: string[] = [];
  third.on('console', (message) => {
    if (message.text().includes('front-channel logout ignored')) ignored.push(message.text());
  });
  // Anyone can open the route; without the session's sid (and issuer, when one is given) it
  // changes nothing, and says so in the console.
  const issuer = `http://127.0.0.1:${emulatorPort}/4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f/v2.0`;
  for (const forged of ['/logout', '/logout?sid=guessed', `/logout?sid=${bob}&iss=${encodeURIComponent('https://evil.example/v2.0')}`]) {
    await third.goto(forged);
    await expect(third.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  }
  await expect.poll(() => ignored.length).toBeGreaterThanOrEqual(3);
  expect(ignored[0]).toContain('expected the sid of the session that ended (found none)');
  for (const tab of [first, second]) {
    await expect(tab.getByRole('button', { name: 'Sign out' })).toBeVisible();
    expect(await tab.evaluate(() => sessionStorage.getItem('channels.session'))).not.toBeNull();
  }
  // Entra ends Alice's session: her tab ends, Bob's stays.
  await third.goto(`/logout?sid=${alice}`);
  await expect(second.getByRole('status')).toContainText('You were signed out');
  await expect(second.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  expect(await second.evaluate(() => sessionStorage.getItem('channels.session'))).toBeNull();
  await expect(first.getByRole('button', { name: 'Sign out' })).toBeVisible();
  // The specification's form, with the issuer: Bob's.
  await third.goto(`/logout?iss=${encodeURIComponent(issuer)}&sid=${bob}`);
  await expect(first.getByRole('status')).toContainText('You were signed out');
  expect(await first.evaluate(() => sessionStorage.getItem('channels.session'))).toBeNull();
  // The same through the Sign out button of one tab.
  await signIn(first, 'Bob Okafor');
  await signIn(second, 'Alice Moreau');
  await second.getByRole('button', { name: 'Sign out' }).click();
  await expect(first.getByRole('status')).toContainText('You were signed out');
});

test('after sign-in the user lands where they started, and never off the origin', async ({ page, baseURL }) => {
  await signIn(page, 'Alice Moreau', '/diagnostics');
  expect(page.url()).toBe(`${baseURL}/diagnostics`);
  await expect(page.getByRole('heading', { name: 'Sign-in diagnostics' })).toBeVisible();

  for (const hostile of ['//evil.example/', '/\\evil.example/', '/%5Cevil.example/', '/%2F%2Fevil.example/']) {
    await page.evaluate(() => sessionStorage.clear());
    await signIn(page, 'Alice Moreau', `${baseURL}${hostile}`);
    expect(new URL(page.url()).origin).toBe(baseURL);
    expect(new URL(page.url()).pathname).toBe('/');
  }
});

test('a SPA asking for Microsoft Graph gets a Graph token; the API and the diagnostics name the fix', async ({ page }) => {
  await page.goto(`http://localhost:${graphScopeApiPort}/`);
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  await page.getByRole('button', { name: /Alice Moreau/ }).click();
  // The registration does not list Graph, so Entra asks alice to consent to User.Read.
  await expect(page.getByRole('heading', { name: 'Permissions requested' })).toBeVisible();
  await expect(page.getByText('User.Read')).toBeVisible();
  await page.getByRole('button', { name: 'Accept' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Alice Moreau' })).toBeVisible();
  await expect(page.getByRole('alert')).toContainText('Microsoft Graph');
  await page.getByRole('button', { name: 'Check this sign-in' }).click();
  const audience = page.getByRole('list', { name: 'Checks' }).locator('li.fail').first();
  await expect(audience).toContainText('00000003-0000-0000-c000-000000000000 (Microsoft Graph)');
  await expect(audience).toContainText('How to fix');
});

/** Starts a sign-in, changes the authorize request with `change`, and returns the alert. */
async function withChangedRequest(page: Page, change: (url: URL) => void, start = '/') {
  const authorize = page.waitForRequest(/\/oauth2\/v2\.0\/authorize\?/);
  await page.goto(start);
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  const url = new URL((await authorize).url());
  change(url);
  await page.goto(url.toString());
}

const clientId = '6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d';
const requestErrors: [string, (url: URL) => void][] = [
  ['AADSTS650053', (url) => url.searchParams.set('scope', `openid api://${clientId}/Nope`)],
  ['AADSTS70011', (url) => url.searchParams.set('scope', `openid api://${clientId}/`)],
  ['AADSTS700054', (url) => url.searchParams.set('response_type', 'id_token')],
  ['AADSTS50058', (url) => url.searchParams.set('prompt', 'none')],
  ['AADSTS650057', (url) => url.searchParams.set('scope', 'openid https://graph.microsoft.com/.default')],
];

for (const [code, change] of requestErrors) {
  test(`${code} from Entra is explained with its fix`, async ({ page }) => {
    await withChangedRequest(page, change);
    const alert = page.getByRole('alert');
    await expect(alert).toContainText(`${code}:`);
    await expect(alert).toContainText('How to fix:');
    await expect(alert.getByRole('button', { name: 'Try again' })).toBeVisible();
  });
}

test('declined consent (AADSTS65004) and consent required silently (AADSTS65001) are explained', async ({ page }) => {
  // Bob: nobody consents to Graph for him in this suite (alice does, in the Graph scope test).
  await withChangedRequest(page, (url) => url.searchParams.set('scope', 'openid User.Read'));
  await page.getByRole('button', { name: /Bob Okafor/ }).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('alert')).toContainText('AADSTS65004:');
  await expect(page.getByRole('alert')).toContainText('How to fix:');
  await withChangedRequest(page, (url) => {
    url.searchParams.set('scope', 'openid User.Read');
    url.searchParams.set('prompt', 'none'); // bob has an Entra session now, but no consent
  });
  await expect(page.getByRole('alert')).toContainText('AADSTS65001:');
  await expect(page.getByRole('alert')).toContainText('How to fix:');
});

test('a tampered code verifier (AADSTS501481) is explained', async ({ page }) => {
  await page.route('**/oauth2/v2.0/token', async (route) => {
    const body = route.request().postData()!.replace(/code_verifier=[^&]+/, `code_verifier=${'x'.repeat(43)}`);
    await route.continue({ postData: body });
  });
  await page.goto('/');
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  await page.getByRole('button', { name: /Alice Moreau/ }).click();
  await expect(page.getByRole('alert')).toContainText('AADSTS501481:');
  await expect(page.getByRole('alert')).toContainText('How to fix:');
});

test('with several organisations the user picks one, which is remembered and can be changed', async ({ page }) => {
  const base = `http://localhost:${organisationsApiPort}`;
  await page.goto(`${base}/`);
  await expect(page.getByRole('heading', { name: 'Choose your organisation' })).toBeVisible();
  await page.getByRole('button', { name: 'Fabrikam' }).click();
  const authorizations = authorizeRequests(page);
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  const picker = page.getByRole('button', { name: /@/ });
  await expect(picker).toHaveCount(1); // Fabrikam's directory: frank only
  await page.getByRole('button', { name: /Frank Osei/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Frank Osei' })).toBeVisible();
  await expect(channels(page)).toHaveText(['All Call', 'Harbour Ops']); // Harbour, nested in Operations
  await expect(page.getByText('9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d')).toBeVisible();

  await signOut(page);
  await expect(page.getByText('Organisation: Fabrikam')).toBeVisible(); // remembered
  await page.getByRole('button', { name: 'Change organisation' }).click();
  await page.getByRole('button', { name: 'Contoso' }).click();
  await signIn(page, 'Alice Moreau', `${base}/`);
  await expect(channels(page)).toHaveText(['All Call']);
  expect(await page.evaluate(() => Object.keys(localStorage))).toEqual(['channels.organisation']); // a name, no token
  // Each organisation's own hints: Fabrikam's home realm, none for Contoso.
  const hints = authorizations.map((r) => new URL(r.url()).searchParams.get('domain_hint'));
  expect(hints).toEqual(['fabrikam.example', null]);
});

test('a renewal due after a sign-out elsewhere and a change of organisation is not sent', async ({ context }) => {
  const base = `http://localhost:${organisationsApiPort}`;
  const page = await context.newPage();
  await page.clock.install();
  await page.goto(`${base}/`);
  await page.getByRole('button', { name: 'Fabrikam' }).click();
  await signIn(page, 'Frank Osei', `${base}/`);
  await expect(channels(page)).toHaveText(['All Call', 'Harbour Ops']); // a renewal is now scheduled
  const tokenRequests: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/oauth2/v2.0/token')) tokenRequests.push(r.postData() ?? '');
  });
  await signOutElsewhere(context, page, base);
  await expect(page.getByRole('status')).toContainText('You were signed out');
  await page.getByRole('button', { name: 'Change organisation' }).click();
  await page.getByRole('button', { name: 'Contoso' }).click(); // the Fabrikam sign-in is gone
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  await page.clock.fastForward('01:30:00'); // past the old session's renewal, and any retry
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  await expect(page.getByText('Organisation: Contoso')).toBeVisible();
  // The next token request this page sends is the new sign-in's: a renewal the timers had let
  // through would have been sent before the click that leaves for Entra.
  // (The page's clock is 90 minutes ahead, so that sign-in ends at the ID token's expiry check;
  // its code is redeemed all the same.)
  const redemption = page.waitForRequest((r) => r.url().includes('/oauth2/v2.0/token'));
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  await page.getByRole('button', { name: /Alice Moreau/ }).click();
  await redemption;
  expect(tokenRequests.map((body) => new URLSearchParams(body).get('grant_type'))).toEqual(['authorization_code']);
});

test('a renewal in flight when the user signs out elsewhere is dropped, unsaved', async ({ context }) => {
  const page = await context.newPage();
  await page.clock.install();
  await signIn(page, 'Bob Okafor');
  await expect(channels(page)).toHaveText(['All Call', 'Police South Ops']);
  // Entra's answer to the renewal is held until the user has signed out in another tab.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/oauth2/v2.0/token', async (route) => {
    await held;
    await route.continue();
  });
  const renewal = page.waitForRequest((r) => r.url().endsWith('/oauth2/v2.0/token') && r.postData()!.includes('grant_type=refresh_token'));
  const dropped = page.waitForEvent('console', (message) => message.text().includes('finished after the session ended was dropped'));
  await page.clock.fastForward('01:30:00');
  await renewal;
  await signOutElsewhere(context, page);
  await expect(page.getByRole('status')).toContainText('You were signed out');
  release();
  await dropped;
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  expect(await page.evaluate(() => sessionStorage.getItem('channels.session')), 'the rotated refresh token is not kept').toBeNull();
});

/** The SPA's alert names the code and the fix. */
async function explained(page: Page, code: string) {
  const alert = page.getByRole('alert');
  await expect(alert).toContainText(`${code}:`);
  await expect(alert).toContainText('How to fix:');
}

test('an app asking for itself by an App ID URI without its client id (AADSTS90009) is explained', async ({ page }) => {
  await withChangedRequest(
    page,
    (url) => {
      url.searchParams.set('client_id', policiesClientIds.namedByUri);
      url.searchParams.set('scope', 'openid https://channels.northwind.example/UserProfile.ReadWrite');
    },
    `http://localhost:${policiesApiPort}/`,
  );
  await explained(page, 'AADSTS90009');
});

test('Conditional Access (MFA, AADSTS50076, AADSTS53003) and user assignment (AADSTS50105) are explained', async ({ page }) => {
  const start = `http://localhost:${policiesApiPort}/`;
  await page.goto(start);
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  await page.getByRole('button', { name: /Omar Haddad/ }).click();
  // Entra's MFA prompt; Omar now has a session at Entra, without MFA.
  await expect(page.getByRole('heading', { name: 'Approve sign-in request' })).toBeVisible();

  // Silent requests from that session: each policy's refusal comes back to the SPA.
  const silently = (clientId: string) => (url: URL) => {
    url.searchParams.set('prompt', 'none');
    url.searchParams.set('client_id', clientId);
    url.searchParams.set('scope', `openid offline_access api://${clientId}/UserProfile.ReadWrite`);
  };
  await withChangedRequest(page, silently(policiesClientIds.mfa), start);
  await explained(page, 'AADSTS50076');
  await withChangedRequest(page, silently(policiesClientIds.assignedOnly), start); // Omar is in no assigned group
  await explained(page, 'AADSTS50105');
  await withChangedRequest(page, silently(policiesClientIds.blocked), start);
  await explained(page, 'AADSTS53003');

  // Approving the MFA prompt signs Omar in.
  await page.getByRole('alert').getByRole('button', { name: 'Try again' }).click();
  await page.getByRole('button', { name: /Omar Haddad/ }).click();
  await page.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Omar Haddad' })).toBeVisible();
  await expect(page.getByText('You have no channels.')).toBeVisible();
});
