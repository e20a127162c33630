import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, type Page, test } from '@playwright/test';
import { channels, signIn, signOut, signOutElsewhere } from './helpers';
import { misconfiguredApiPort } from './playwright.config';

test('alice signs in with PKCE and sees exactly her three channels', async ({ page, baseURL }) => {
  const authorize = page.waitForRequest(/\/oauth2\/v2\.0\/authorize\?/);
  const violations: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') violations.push(`${message.location().url}: ${message.text()}`);
  });

  await page.goto('/');
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  const request = new URL((await authorize).url());
  expect(request.pathname).toBe('/4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f/oauth2/v2.0/authorize');
  expect(request.searchParams.get('response_type')).toBe('code');
  expect(request.searchParams.get('code_challenge_method')).toBe('S256');
  expect(request.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(request.searchParams.get('redirect_uri')).toBe(`${baseURL}/sso`);
  expect(request.searchParams.get('scope')).toBe(
    'openid profile offline_access api://6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d/UserProfile.ReadWrite',
  );

  await page.getByRole('button', { name: /Alice Moreau/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Alice Moreau' })).toBeVisible();
  await expect(page.getByText('alice@contoso.example')).toBeVisible();
  await expect(channels(page)).toHaveText(['All Call', 'Dispatch Ops', 'Fire North Tac']);
  await page.setViewportSize({ width: 900, height: 560 });
  // The README's picture, kept out of the tracked tree: `./dev screenshot` copies it to docs/.
  await page.screenshot({ path: 'screenshots/signed-in.png' });

  // The code and state are gone from the address bar, and no token is in localStorage.
  expect(page.url()).toBe(`${baseURL}/`);
  expect(await page.evaluate(() => localStorage.length)).toBe(0);
  expect(violations).toEqual([]);
});

test('the access token is renewed silently before it expires', async ({ page }) => {
  await page.clock.install();
  const apiCalls: string[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/api/me')) apiCalls.push(r.url());
  });
  // The API refuses the renewed token (its second call), so a verdict about the wrong token
  // would show; that answer waits until the test has seen the page ask.
  let answered = 0;
  let answerSecond = () => {};
  const secondMayAnswer = new Promise<void>((release) => (answerSecond = release));
  await page.route('**/api/me', async (route) => {
    if (++answered !== 2) return route.continue();
    await secondMayAnswer;
    await route.fulfill({ status: 401, json: { error: 'invalid_token', message: 'Refused for this test.' } });
  });
  await signIn(page, 'Bob Okafor');
  await expect(channels(page)).toHaveText(['All Call', 'Police South Ops']);
  await page.getByRole('button', { name: 'Check this sign-in' }).click();
  await expect(page.locator('.diagnostics').getByRole('status')).toHaveText('Every check passed.');
  expect(apiCalls).toHaveLength(1); // the page's own call answers the diagnostics too
  const summary = page.getByText('Decoded access token claims');
  await summary.click();
  const claims = page.locator('.diagnostics pre');
  const before = await claims.textContent();
  await page.waitForTimeout(1100); // so that the next token's iat differs
  const renewal = page.waitForRequest((r) => r.url().endsWith('/oauth2/v2.0/token') && r.postData()!.includes('grant_type=refresh_token'));
  const refreshed = page.waitForResponse((r) => r.url().endsWith('/oauth2/v2.0/token') && r.request().postData()!.includes('refresh_token'));
  await page.clock.fastForward('01:30:00'); // past any Entra access-token lifetime (60-90 min)
  await renewal;
  expect((await refreshed).status()).toBe(200);
  // The same page, updated in place: the new token's claims in the still-open list, focus
  // kept, and the API asked about the new token (its verdict is about the token shown).
  await expect(claims).not.toHaveText(before!);
  await expect(page.locator('.diagnostics details')).toHaveAttribute('open', '');
  await expect(summary).toBeFocused();
  // Until the API answers about the new token, the earlier token's verdict is not shown for it.
  await expect(page.locator('.diagnostics').getByRole('status')).toHaveText(
    'Every check passed. Asking the API about this token…',
  );
  answerSecond();
  await expect(page.locator('.diagnostics').getByRole('status')).toHaveText('1 of 8 checks failed.');
  await expect(page.locator('.diagnostics li.fail')).toContainText('invalid_token: Refused for this test.');
  expect(apiCalls).toHaveLength(2);
  await expect(channels(page)).toHaveText(['All Call', 'Police South Ops']);
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toHaveCount(0);
});

test('bob sees the police channels', async ({ page }) => {
  await signIn(page, 'Bob Okafor');
  await expect(channels(page)).toHaveText(['All Call', 'Police South Ops']);
});

test('carol, with only a cloud-only group, is told why she has no channels', async ({ page }) => {
  await signIn(page, 'Carol Lindqvist');
  await expect(page.getByText('You have no channels.')).toBeVisible();
  const notice = page.getByRole('note');
  await expect(notice).toHaveAttribute('data-code', 'no_groups_claim');
  await expect(notice).toContainText('cloud-only groups have no sAMAccountName');
});

test('dave, in 230 groups, is told about the groups overage and its fix', async ({ page }) => {
  await signIn(page, 'Dave Ng');
  const notice = page.getByRole('note');
  await expect(notice).toHaveAttribute('data-code', 'groups_overage');
  await expect(notice).toContainText('Groups assigned to the application');
});

test('the session survives a reload through its refresh token, and sign-out clears it', async ({ page, baseURL }) => {
  await signIn(page, 'Erin Walsh');
  const renewal = page.waitForRequest((r) => r.url().endsWith('/oauth2/v2.0/token') && r.postData()!.includes('grant_type=refresh_token'));
  await page.reload();
  await renewal;
  await expect(channels(page)).toHaveText(['All Call', 'Dispatch Ops']);
  // The access token (a JWT) lives in memory only; storage holds the name and the refresh token.
  const stored = await page.evaluate(() => Object.values(sessionStorage).join(' '));
  expect(stored).toContain('Erin Walsh');
  expect(stored).not.toContain('eyJ');
  await signOut(page);
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  await expect(page).toHaveURL(`${baseURL}/`);
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

  // A session saved by an earlier version, in a shape this one cannot read, is dropped with a
  // word of why, not silently.
  await page.evaluate(() => sessionStorage.setItem('channels.session', '{"refresh_token":"rt-1","name":"Erin"}'));
  await page.reload();
  await expect(page.getByRole('status')).toContainText('saved by an earlier version of this app');
  await expect(page.getByRole('status')).toContainText('missing field `account`');
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  expect(await page.evaluate(() => sessionStorage.getItem('channels.session'))).toBeNull();
});

test('a stored session of another registration is dropped at a reload, never renewed', async ({ page }) => {
  await signIn(page, 'Erin Walsh');
  // The tab's session as another app registration (another organisation's) would have left it.
  await page.evaluate(() => {
    const session = JSON.parse(sessionStorage.getItem('channels.session')!);
    sessionStorage.setItem('channels.session', JSON.stringify({ ...session, client_id: '00000000-0000-4000-8000-00000000c1a0' }));
  });
  const renewals: string[] = [];
  page.on('request', (r) => r.url().endsWith('/oauth2/v2.0/token') && renewals.push(r.postData()!));
  await page.reload();
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  expect(await page.evaluate(() => sessionStorage.getItem('channels.session'))).toBeNull();
  expect(renewals, 'its refresh token was not sent to this registration').toEqual([]);
});

test('diagnostics pass for alice and name the fix when something is off', async ({ page }) => {
  await signIn(page, 'Alice Moreau');
  await expect(channels(page)).toHaveCount(3);
  // The button discloses the diagnostics: it says whether they are shown, keeps the focus, and
  // the address follows.
  const toggle = page.getByRole('button', { name: 'Check this sign-in' });
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await expect(page).toHaveURL(/\/diagnostics$/);
  const checks = page.getByRole('list', { name: 'Checks' }).getByRole('listitem');
  await expect(checks).toHaveCount(8);
  await expect(page.locator('.diagnostics').getByRole('status')).toHaveText('Every check passed.');
  await expect(toggle).toBeFocused();
  await toggle.press('Enter');
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(page.getByRole('heading', { name: 'Sign-in diagnostics' })).toBeHidden();
  await expect(page).toHaveURL(/\/$/);
  await expect(toggle).toBeFocused();
  await toggle.press('Enter');
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await page.getByText('Decoded access token claims').click();
  await expect(page.locator('.diagnostics pre')).toContainText('"upn": "alice@contoso.example"');
  await expect(page.locator('.diagnostics pre')).toContainText('"sub": "•••• (masked)"');

  await signOut(page);
  await signIn(page, 'Carol Lindqvist');
  await page.getByRole('button', { name: 'Check this sign-in' }).click();
  const failed = page.getByRole('list', { name: 'Checks' }).locator('li.fail');
  await expect(failed).toHaveCount(1);
  await expect(failed).toContainText('Groups arrive as names');
  await expect(failed).toContainText('Add groups claim → Security groups → Access token: sAMAccountName');
});

test('diagnostics name the fixes for a registration without upn and with groups as object ids', async ({ page }) => {
  await signIn(page, 'Alice Moreau', `http://localhost:${misconfiguredApiPort}/`);
  await expect(page.getByRole('note')).toHaveAttribute('data-code', 'no_matching_groups');
  await page.getByRole('button', { name: 'Check this sign-in' }).click();
  const failed = page.getByRole('list', { name: 'Checks' }).locator('li.fail');
  await expect(failed).toHaveCount(2);
  await expect(failed.nth(0)).toContainText('The UPN is in the token');
  await expect(failed.nth(0)).toContainText('Add optional claim → Access → upn');
  await expect(failed.nth(1)).toContainText('Groups arrive as names');
  await expect(failed.nth(1)).toContainText('0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0001');
});

test('diagnostics say why a token cannot be examined, naming the claim, and still show its claims', async ({ page }) => {
  // The access token is changed on its way to the SPA, one way per token: a claim of a type
  // Entra never issues, then (after a reload renews it) a group that is not a string, then a
  // token that is not a JWT at all.
  const withClaims = (changed: object) => (token: string) => {
    const [header, payload, signature] = token.split('.');
    const claims = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), ...changed };
    return [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
  };
  const tokens = [withClaims({ scp: null }), withClaims({ groups: ['Dispatch', 42] }), () => 'an-opaque-token'];
  await page.route('**/oauth2/v2.0/token', async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    const change = tokens.shift();
    if (body.access_token && change) body.access_token = change(body.access_token);
    await route.fulfill({ response, json: body });
  });
  const diagnostics = page.locator('.diagnostics');
  const claimsCannotBeChecked = "The access token's claims are not of the types Entra issues, so they cannot be checked: ";

  await signIn(page, 'Alice Moreau', '/diagnostics');
  await expect(page.getByRole('alert').first()).toContainText('The API refused your sign-in'); // the signature no longer holds
  await expect(page.getByRole('button', { name: 'Check this sign-in' })).toHaveAttribute('aria-expanded', 'true');
  await expect(diagnostics.getByRole('alert')).toHaveText(claimsCannotBeChecked + 'scp: expected a string (found another type).');
  await page.getByText('Decoded access token claims').click();
  await expect(diagnostics.locator('pre')).toContainText('"scp": null');

  await page.reload(); // renewed with the refresh token
  await expect(diagnostics.getByRole('alert')).toHaveText(
    claimsCannotBeChecked + 'groups[1]: expected a string (found another type).',
  );

  await page.reload(); // the next access token is opaque
  await expect(diagnostics.getByRole('alert')).toHaveText(
    'The access token is not a JWT with a JSON payload, so it cannot be examined here.',
  );
  await page.getByText('Decoded access token claims').click();
  await expect(diagnostics.locator('pre')).toHaveText('(none: the access token is not a JWT with a JSON payload)');
});

test('a replayed callback is refused and offers a clean retry', async ({ page }) => {
  const callback = page.waitForRequest(/\/sso\?code=/);
  await signIn(page, 'Alice Moreau');
  const replay = (await callback).url();
  await page.goto(replay);
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('does not belong to a sign-in started in this tab');
  await expect(alert.getByRole('button', { name: 'Try again' })).toBeVisible();
  expect(new URL(page.url()).search).toBe('');
});

test('two tabs signing in at once do not disturb each other', async ({ context }) => {
  const [first, second] = [await context.newPage(), await context.newPage()];
  for (const tab of [first, second]) {
    await tab.goto('/');
    await tab.getByRole('button', { name: 'Sign in with Microsoft' }).click();
    await expect(tab.getByRole('heading', { name: 'Pick an account' })).toBeVisible();
  }
  // Both logins are pending; the second finishes first.
  await second.getByRole('button', { name: /Bob Okafor/ }).click();
  await expect(channels(second)).toHaveText(['All Call', 'Police South Ops']);
  await first.getByRole('button', { name: /Alice Moreau/ }).click();
  await expect(channels(first)).toHaveText(['All Call', 'Dispatch Ops', 'Fire North Tac']);
  await second.reload();
  await expect(second.getByRole('heading', { level: 1, name: 'Bob Okafor' })).toBeVisible();
});

test('a callback carrying the state of a login started in another tab is refused there', async ({ context }) => {
  const [started, other] = [await context.newPage(), await context.newPage()];
  await started.goto('/');
  await started.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  await expect(started.getByRole('heading', { name: 'Pick an account' })).toBeVisible();
  // The other tab follows the first tab's authorize request: Entra sends it the first tab's state.
  await other.goto(started.url());
  await other.getByRole('button', { name: /Alice Moreau/ }).click();
  await expect(other.getByRole('alert')).toContainText('does not belong to a sign-in started in this tab');
  // The login is the first tab's: there it completes.
  await started.getByRole('button', { name: /Alice Moreau/ }).click();
  await expect(started.getByRole('heading', { level: 1, name: 'Alice Moreau' })).toBeVisible();
});

test('a callback with a forged state is refused', async ({ page }) => {
  await page.goto('/sso?code=stolen&state=forged');
  await expect(page.getByRole('alert')).toContainText('does not belong to a sign-in started in this tab');
});

test('an Entra error is explained with its fix, and hostile text stays text', async ({ page }) => {
  // A real error from the emulator: the scope names an unknown resource, which Entra (and the
  // emulator) quote back in AADSTS500011's description, here as markup.
  const authorize = page.waitForRequest(/\/oauth2\/v2\.0\/authorize\?/);
  await page.goto('/');
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  const url = new URL((await authorize).url());
  const hostile = '<img/src=x/onerror=window.pwned=1>';
  url.searchParams.set('scope', `openid ${hostile}/Read`);
  await page.goto(url.toString());
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('does not exist in this tenant');
  await expect(alert).toContainText('Expose an API');
  await expect(alert).toContainText(`AADSTS500011: The resource principal named ${hostile} was not found`);
  expect(await alert.locator('img').count()).toBe(0);
  expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
});

test('an error link that no sign-in of this tab asked for is refused without its text', async ({ page }) => {
  const description = 'AADSTS65004: Call +1 555 0100 to restore your account.';
  await page.goto(`/sso?error=access_denied&error_description=${encodeURIComponent(description)}`);
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('does not belong to a sign-in started in this tab');
  await expect(alert).not.toContainText('555 0100');
});

test("the app's files arrive compressed, from the copies the release build wrote", async ({ page }) => {
  const wasm = page.waitForResponse((r) => r.url().endsWith('.wasm'));
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  expect((await wasm).headers()['content-encoding']).toBe('br');
  const files = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((entry) => entry as PerformanceResourceTiming)
      .filter((entry) => /\.(wasm|js|css)$/.test(entry.name))
      .map((entry) => ({ name: entry.name, sent: entry.encodedBodySize, size: entry.decodedBodySize })),
  );
  expect(files.map((file) => file.name.split('.').pop()).sort()).toEqual(['css', 'js', 'wasm']);
  for (const file of files) expect(file.sent, file.name).toBeLessThan(file.size / 2);
});

test('the first load downloads the sign-in alone: the code a signed-in tab runs comes after Entra answers', async ({ page, request }) => {
  const fetched: string[] = [];
  // In order: each wasm asked for, and the token endpoint's answer to the code.
  const events: string[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('.wasm')) fetched.push(new URL(r.url()).pathname);
    if (r.url().endsWith('.wasm')) events.push(new URL(r.url()).pathname);
  });
  page.on('response', (r) => {
    if (r.url().endsWith('/oauth2/v2.0/token')) events.push('token');
  });
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  expect(fetched).toEqual([expect.stringMatching(/^\/channels-spa-[0-9a-f]+_bg\.wasm$/)]);
  const [main] = fetched;

  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  await page.getByRole('button', { name: /Alice Moreau/ }).click();
  await expect(channels(page)).toHaveText(['All Call', 'Dispatch Ops', 'Fire North Tac']);
  // The completion's chunk and the signed-in page's, each with the code they share.
  const chunks = [...new Set(fetched.filter((file) => file !== main))];
  expect(chunks.length).toBeGreaterThanOrEqual(2);
  // The signed-in page's chunk is asked for while the code is redeemed, not after.
  const page_ = events.findIndex((event) => /\/split_signed_in_page-/.test(event));
  expect(page_).toBeGreaterThanOrEqual(0);
  expect(page_).toBeLessThan(events.indexOf('token'));
  for (const chunk of chunks) {
    // Named after its content, as Trunk names the main wasm: cached for a year, never stale.
    const answer = await request.get(chunk);
    expect(answer.headers()['cache-control'], chunk).toBe('public, max-age=31536000, immutable');
    expect(answer.headers()['content-type'], chunk).toBe('application/wasm');
  }
});

/** Alice signs in while the wasm chunk matching `chunk` cannot be fetched; the page's alert. */
async function signInWithChunkRefused(page: Page, chunk: RegExp) {
  await page.route(chunk, (route) => route.abort());
  await page.goto('/');
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  await page.getByRole('button', { name: /Alice Moreau/ }).click();
  return page.getByRole('alert');
}

test('a sign-in whose code cannot be fetched says so, and "Try again" signs in', async ({ page }) => {
  const signInCode = /\/split_sign_in-[0-9a-f]+\.wasm$/;
  const alert = await signInWithChunkRefused(page, signInCode);
  await expect(alert).toContainText("Expected this app's code for completing the sign-in; found no answer from this site");
  await expect(alert).toContainText('No Entra setting causes this: check the connection to this site, then try again');

  await page.unroute(signInCode);
  await alert.getByRole('button', { name: 'Try again' }).click();
  await page.getByRole('button', { name: /Alice Moreau/ }).click();
  await expect(channels(page)).toHaveText(['All Call', 'Dispatch Ops', 'Fire North Tac']);
});

test('a renewal an hour after the sign-in fetches no code, and a reload whose code cannot be fetched keeps the session', async ({ page }) => {
  await page.clock.install();
  await signIn(page, 'Bob Okafor');
  await expect(channels(page)).toHaveText(['All Call', 'Police South Ops']);
  // From here no chunk of the wasm can be fetched (a train in a tunnel).
  const chunks = /\/(split_|chunk_)[^/]*\.wasm$/;
  const fetched: string[] = [];
  await page.route(chunks, (route) => {
    fetched.push(route.request().url());
    return route.abort();
  });
  const refreshed = page.waitForResponse((r) => r.url().endsWith('/oauth2/v2.0/token') && r.request().postData()!.includes('refresh_token'));
  await page.clock.fastForward('01:30:00');
  expect((await refreshed).status()).toBe(200);
  await expect(channels(page)).toHaveText(['All Call', 'Police South Ops']);
  expect(fetched).toEqual([]);

  await page.reload();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText("Expected this app's code for renewing your session; found no answer from this site");
  await expect(alert).toContainText('Your session is kept');
  expect(fetched.length).toBeGreaterThan(0);
  await page.unroute(chunks);
  await alert.getByRole('button', { name: 'Try again' }).click();
  await expect(channels(page)).toHaveText(['All Call', 'Police South Ops']);
});

test("a signed-in page whose code cannot be fetched says so, and \"Try again\" reloads it", async ({ page }) => {
  const pageCode = /\/split_signed_in_page-[0-9a-f]+\.wasm$/;
  const alert = await signInWithChunkRefused(page, pageCode);
  await expect(alert).toContainText('The signed-in page could not be loaded');
  await expect(alert).toContainText("Expected this app's code for the signed-in page; found no answer from this site");
  await page.unroute(pageCode);
  await alert.getByRole('button', { name: 'Try again' }).click();
  await expect(channels(page)).toHaveText(['All Call', 'Dispatch Ops', 'Fire North Tac']);
});

test('the files the release build rewrites are named after their bytes', async ({ page, request }) => {
  const fetched = new Set<string>();
  page.on('request', (r) => {
    if (/\.(js|wasm)$/.test(r.url())) fetched.add(new URL(r.url()).pathname);
  });
  await signIn(page, 'Alice Moreau');
  await expect(channels(page)).toHaveText(['All Call', 'Dispatch Ops', 'Fire North Tac']);
  expect(fetched.size).toBeGreaterThanOrEqual(4); // the glue, the wasm, two chunks at least
  for (const file of fetched) {
    const bytes = await (await request.get(file)).body();
    const hash = file.match(/-([0-9a-f]{16})(?:_bg)?\.(?:js|wasm)$/)?.[1];
    expect(hash, file).toBe(createHash('sha256').update(bytes).digest('hex').slice(0, 16));
  }
});

test('the runtime configuration is asked for while the wasm downloads, and never while a code is in the address bar', async ({ page }) => {
  // Each request for /config.json, with the address of the page at that moment (events arrive
  // in order: a request sent before the app cleans the address bar sees it unclean).
  const asked: string[] = [];
  let configAsked = () => {};
  const configRequested = new Promise<true>((seen) => (configAsked = () => seen(true)));
  page.on('request', (request) => {
    if (!request.url().endsWith('/config.json')) return;
    const { search, hash } = new URL(request.frame().url());
    asked.push(search + hash);
    configAsked();
  });
  // The wasm is held until the page asks for /config.json, or for 5 seconds: only the boot
  // script can ask that early, and the app then takes its answer instead of asking again.
  const askedBeforeTheWasm: boolean[] = [];
  await page.route(/_bg\.wasm$/, async (route) => {
    askedBeforeTheWasm.push(await Promise.race([configRequested, new Promise<false>((late) => setTimeout(() => late(false), 5_000))]));
    await route.continue();
  });
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible({ timeout: 15_000 });
  expect(askedBeforeTheWasm[0]).toBe(true);
  expect(asked).toEqual(['']);

  // Back from Entra with a code: the app asks once more, after the code has left the address bar.
  await page.unroute(/_bg\.wasm$/);
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  await page.getByRole('button', { name: /Alice Moreau/ }).click();
  await expect(channels(page)).toHaveText(['All Call', 'Dispatch Ops', 'Fire North Tac'], { timeout: 15_000 });
  expect(asked).toEqual(['', '']);
});

test('the SPA is served under a strict Content Security Policy, with cache headers', async ({ page, request }) => {
  const wasm = page.waitForResponse(/_bg\.wasm$/);
  const response = await page.goto('/');
  // The JS glue and the wasm are pinned by their SHA-384 (subresource integrity), the pins match
  // the files served (the release build minifies the glue after Trunk pinned it), and each is
  // named after its content by Trunk, so a file cached for a year never changes under its name.
  const pins = [...(await response!.text()).matchAll(/href=("?)(\/[^" >]+)\1 integrity=("?)(sha384-[^" >]+)\3/g)];
  expect(pins.map(([, , file]) => file.replace(/-[0-9a-f]+/, '-…'))).toEqual(
    expect.arrayContaining(['/channels-spa-….js', '/channels-spa-…_bg.wasm']),
  );
  for (const [, , file, , pin] of pins) {
    const served = await (await request.get(file)).body();
    expect(pin, file).toBe(`sha384-${createHash('sha384').update(served).digest('base64')}`);
  }
  expect(response!.headers()['cache-control']).toBe('no-cache');
  expect((await wasm).headers()['cache-control']).toBe('public, max-age=31536000, immutable');
  const csp = response!.headers()['content-security-policy'];
  expect(csp).toContain("default-src 'none'");
  expect(csp).toMatch(/script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/=]+';/);
  expect(csp).not.toContain('unsafe-inline');
  for (const directive of ["frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"]) expect(csp).toContain(directive);
  expect(response!.headers()['x-content-type-options']).toBe('nosniff');
  expect(response!.headers()['referrer-policy']).toBe('no-referrer');
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
});

// A fetch waits forever by itself: the SPA gives up on any request after 15 seconds and says so.
test('an API that does not answer is named after 15 seconds, and "Try again" asks it again', async ({ page }) => {
  test.setTimeout(60_000);
  let calls = 0;
  await page.route('**/api/me', async (route) => {
    calls += 1;
    if (calls > 1) await route.continue(); // the first is never answered
  });
  await signIn(page, 'Alice Moreau');
  await expect(page.getByRole('status')).toHaveText('Loading your channels…');
  const alert = page.getByRole('alert');
  await expect(alert.getByRole('heading')).toHaveText('Your channels could not be loaded', { timeout: 25_000 });
  await expect(alert).toContainText("Expected the API's answer to GET /api/me; found no answer within 15 seconds.");
  await expect(alert.locator('.fix')).toContainText('check that channels-api is running');
  await alert.getByRole('button', { name: 'Try again' }).click();
  await expect(channels(page)).toHaveText(['All Call', 'Dispatch Ops', 'Fire North Tac']);
  expect(calls).toBe(2);
});

test('a token endpoint that stops answering midway is named after 15 seconds, with a clean retry', async ({ page }) => {
  test.setTimeout(60_000);
  // A real server on loopback sends the answer's headers and the start of its body, then nothing:
  // the deadline covers the body too, not only the wait for headers (the API test above).
  const stalled = http.createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' });
    response.write('{"token_type":"Bearer",');
  });
  await new Promise<void>((listening) => stalled.listen(0, '127.0.0.1', listening));
  const { port } = stalled.address() as AddressInfo;
  try {
    await page.route('**/oauth2/v2.0/token', (route) => route.continue({ url: `http://127.0.0.1:${port}/token` }));
    await page.goto('/');
    await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
    const answered = page.waitForResponse((response) => response.url().endsWith('/token'));
    await page.getByRole('button', { name: /Alice Moreau/ }).click();
    expect((await answered).status()).toBe(200); // the headers came
    const alert = page.getByRole('alert');
    await expect(alert).toContainText("Entra's token endpoint did not answer within 15 seconds.", { timeout: 25_000 });
    await expect(alert.locator('.fix')).toContainText('No Entra setting causes this');
    expect(new URL(page.url()).search).toBe(''); // the code is gone from the address bar all the same

    await page.unroute('**/oauth2/v2.0/token');
    await alert.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('button', { name: /Alice Moreau/ }).click();
    await expect(channels(page)).toHaveText(['All Call', 'Dispatch Ops', 'Fire North Tac']);
  } finally {
    stalled.closeAllConnections();
    stalled.close();
  }
});

test('a renewal that cannot reach Entra keeps the session, and "Try again" renews it', async ({ page }) => {
  await signIn(page, 'Alice Moreau');
  const session = () => page.evaluate(() => sessionStorage.getItem('channels.session'));
  const before = await session();
  expect(before).toMatch(/"refresh_token":"[^"]+"/);
  const authorize: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/oauth2/v2.0/authorize')) authorize.push(request.url());
  });
  // First no connection, then Entra out of order for a moment (RFC 6749 temporarily_unavailable).
  let refreshes = 0;
  await page.route('**/oauth2/v2.0/token', async (route) => {
    refreshes += 1;
    if (refreshes === 1) return route.abort('connectionfailed');
    await route.fulfill({
      status: 503,
      json: { error: 'temporarily_unavailable', error_description: 'AADSTS90033: A transient error has occurred.' },
    });
  });
  await page.reload(); // renews with the refresh token, which cannot reach Entra
  const alert = page.getByRole('alert');
  await expect(alert.getByRole('heading')).toHaveText('Your session could not be renewed');
  await expect(alert).toContainText("Expected Entra to renew your session; found: The browser could not reach Entra's");
  await expect(alert.locator('.fix')).toContainText('No Entra setting causes this');
  await expect(page.getByRole('button', { name: 'Sign in again' })).toBeVisible(); // a way out
  expect(await session()).toBe(before);

  await alert.getByRole('button', { name: 'Try again' }).click();
  await expect(alert.locator('.detail')).toContainText('temporarily_unavailable');
  expect(await session()).toBe(before);
  expect(refreshes).toBe(2);

  await page.unroute('**/oauth2/v2.0/token');
  await alert.getByRole('button', { name: 'Try again' }).click();
  await expect(channels(page)).toHaveText(['All Call', 'Dispatch Ops', 'Fire North Tac']);
  expect(authorize).toEqual([]); // renewed with the kept refresh token, not signed in again
  expect(await session()).not.toBe(before); // the rotated refresh token replaced the old one
});

test('an interrupted renewal can be left: "Sign in again" starts afresh, and a sign-out elsewhere ends it', async ({
  context,
}) => {
  const page = await context.newPage();
  await signIn(page, 'Alice Moreau');
  const interrupted = async () => {
    await page.route('**/oauth2/v2.0/token', (route) => route.abort('connectionfailed'));
    await page.reload();
    await expect(page.getByRole('alert').getByRole('heading')).toHaveText('Your session could not be renewed');
    await page.unroute('**/oauth2/v2.0/token');
  };

  await interrupted();
  const authorize = page.waitForRequest((request) => request.url().includes('/oauth2/v2.0/authorize'));
  await page.getByRole('button', { name: 'Sign in again' }).click();
  expect(new URL((await authorize).url()).searchParams.get('prompt')).toBeNull(); // a plain sign-in
  // The kept session went with it: back at the app, nothing is restored.
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  await signIn(page, 'Alice Moreau');
  await expect(channels(page)).toHaveText(['All Call', 'Dispatch Ops', 'Fire North Tac']);

  await interrupted();
  await signOutElsewhere(context, page);
  await expect(page.getByRole('status')).toContainText('You were signed out');
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  expect(await page.evaluate(() => sessionStorage.getItem('channels.session'))).toBeNull();
});

test('a runtime configuration that cannot be loaded is explained, and "Try again" loads it', async ({ page }) => {
  let loads = 0;
  await page.route('**/config.json', async (route) => {
    loads += 1;
    if (loads === 1) return route.abort('connectionfailed');
    // The two clicks below run in one task: a third load would be sent before this one is
    // answered, and be counted.
    await new Promise((later) => setTimeout(later, 300));
    await route.continue();
  });
  await page.goto('/');
  const alert = page.getByRole('alert');
  await expect(alert.getByRole('heading')).toHaveText('The app could not start');
  await expect(alert).toContainText('Could not load /config.json');
  await expect(alert.locator('.fix')).toContainText('check that channels-api is running');
  // Two clicks at once (a double-click on a slow device) load it once.
  await alert.getByRole('button', { name: 'Try again' }).evaluate((button: HTMLElement) => {
    button.click();
    button.click();
  });
  await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  expect(loads).toBe(2);
});

test('a background renewal that cannot reach Entra keeps the page and tries again while the token works', async ({ page }) => {
  await page.clock.install();
  const issued = page.waitForResponse((r) => r.url().endsWith('/oauth2/v2.0/token'));
  await signIn(page, 'Alice Moreau');
  const { expires_in: lifetime } = await (await issued).json();
  let refreshes = 0;
  await page.route('**/oauth2/v2.0/token', async (route) => {
    refreshes += 1;
    await route.abort('connectionfailed');
  });

  await page.clock.fastForward((lifetime - 5 * 60 + 1) * 1000); // renewal is due 5 minutes before expiry
  await expect.poll(() => refreshes).toBe(1);
  await page.clock.fastForward(31_000);
  await expect.poll(() => refreshes).toBe(2);
  // Meanwhile the page stays as it is: its token still works.
  await expect(channels(page)).toHaveText(['All Call', 'Dispatch Ops', 'Fire North Tac']);
  await expect(page.getByRole('alert')).toHaveCount(0);

  await page.unroute('**/oauth2/v2.0/token');
  const renewed = page.waitForResponse((r) => r.url().endsWith('/oauth2/v2.0/token'));
  await page.clock.fastForward(31_000);
  expect((await renewed).status()).toBe(200);
  await expect(channels(page)).toHaveText(['All Call', 'Dispatch Ops', 'Fire North Tac']);
  await expect(page.getByRole('alert')).toHaveCount(0);
});
