import { expect, type APIRequestContext, type BrowserContext, type Page, type Request } from '@playwright/test';
import { emulatorPort } from './playwright.config';

/** Signs in through the emulator's account picker as the user with this display name. */
export async function signIn(page: Page, name: string, start = '/') {
  await page.goto(start);
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  await expect(page.getByRole('heading', { name: 'Pick an account' })).toBeVisible();
  await page.getByRole('button', { name: new RegExp(name) }).click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
}

/** The channel cards of the signed-in page. */
export function channels(page: Page) {
  return page.getByRole('list', { name: 'Your channels' }).getByRole('listitem');
}

/** Signs out with the page's button and waits until Entra's sign-out has sent the tab back to
 * the redirect URI (the sign-in button shows before the tab leaves). */
export async function signOut(page: Page) {
  const origin = new URL(page.url()).origin;
  const back = page.waitForRequest((r) => r.isNavigationRequest() && r.url() === `${origin}/sso`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await back;
}

/** Ends the 24 hours of every refresh token the emulator issued (an emulator control, which
 * needs its header); returns how many there were. */
export async function expireRefreshTokens(request: APIRequestContext): Promise<number> {
  const response = await request.post(`http://127.0.0.1:${emulatorPort}/_emulator/refresh-tokens/expire`, {
    headers: { 'x-emulator-control': '1' },
  });
  expect(response.status()).toBe(200);
  return response.json();
}

/** The `sid` of `page`'s session (from its ID token), which a front-channel logout names. */
export async function sessionSid(page: Page): Promise<string> {
  const sid = await page.evaluate(() => JSON.parse(sessionStorage.getItem('channels.session') ?? '{}').logout_id?.sid);
  expect(sid, 'the session keeps its ID token\'s sid').toBeTruthy();
  return sid;
}

/** What Entra does when `page`'s user signs out elsewhere: opens the front-channel logout URL
 * (`base` + /logout) with the ended session's sid, here in a tab of its own. */
export async function signOutElsewhere(context: BrowserContext, page: Page, base = '') {
  const sid = await sessionSid(page);
  await (await context.newPage()).goto(`${base}/logout?sid=${encodeURIComponent(sid)}`);
}

/** Records every request the page sends to the authorize endpoint (not the forms posted back
 * from the emulator's pages). */
export function authorizeRequests(page: Page) {
  const requests: Request[] = [];
  page.on('request', (request) => {
    if (request.method() === 'GET' && request.url().includes('/oauth2/v2.0/authorize?')) requests.push(request);
  });
  return requests;
}
