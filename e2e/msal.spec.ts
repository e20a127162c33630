import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { build } from 'esbuild';

// Microsoft's own client, unmodified: @azure/msal-browser 5 (locked in package-lock.json),
// bundled by esbuild for production, served on localhost (a redirect URI the demo registration
// has on the SPA platform, whose port Entra ignores), signs in against the emulator over HTTPS
// (MSAL refuses http authorities), acquires the API's scope silently, refreshes it, and signs
// out; the project's API, trusting the emulator's certificate through ENTRA_CA_FILE, accepts its
// tokens. Two users with different outcomes, so the test cannot pass by accident.

const tenant = '4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const clientId = '6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d';
const scope = `api://${clientId}/UserProfile.ReadWrite`;
const aliceOid = 'a11ce000-0000-4000-8000-000000000001';
const target = process.env.CARGO_TARGET_DIR ?? '../target';

let files: string;
let emulator: ChildProcess;
let api: ChildProcess;
let app: Server;
let authority: string;
let apiOrigin: string;
let appOrigin: string;

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function start(binary: string, env: Record<string, string>): ChildProcess {
  const child = spawn(`${target}/debug/${binary}`, [], { env: { ...process.env, RUST_LOG: 'warn', ...env }, stdio: 'inherit' });
  return child;
}

/** Waits until `check` holds, for at most 20 s. */
async function until(what: string, check: () => Promise<boolean> | boolean) {
  for (let i = 0; i < 200; i++) {
    if (await Promise.resolve().then(check).catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test.beforeAll(async () => {
  files = mkdtempSync(join(tmpdir(), 'msal-e2e-'));
  const certificate = join(files, 'emulator.pem');
  const emulatorPort = await freePort();
  emulator = start('entra-emulator', {
    ENTRA_EMULATOR_ADDR: `127.0.0.1:${emulatorPort}`,
    ENTRA_EMULATOR_TLS_CERT: certificate,
  });
  authority = `https://localhost:${emulatorPort}/${tenant}`;
  // Written at the emulator's start: complete once its last line is there.
  await until('the emulator certificate', () => readFileSync(certificate, 'utf8').includes('-----END CERTIFICATE-----'));

  const apiPort = await freePort();
  // The demo's tenant and channels as a file, but not the demo: an https authority, trusted
  // through the CA file alone.
  api = start('channels-api', {
    CHANNELS_CONFIG: '../crates/api/config/demo.toml',
    CHANNELS_API_ADDR: `127.0.0.1:${apiPort}`,
    ENTRA_AUTHORITY: `https://localhost:${emulatorPort}`,
    ENTRA_CA_FILE: certificate,
    CHANNELS_DATABASE_URL: `sqlite://${join(files, 'members.db')}?mode=rwc`,
  });
  apiOrigin = `http://127.0.0.1:${apiPort}`;
  await until('the API', async () => (await fetch(`${apiOrigin}/healthz`)).ok);

  const bundle = await build({
    entryPoints: ['msal/app.ts'],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
  });
  const script = bundle.outputFiles[0].text;
  const settings = JSON.stringify({ clientId, authority, scope });
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>MSAL.js app</title>
<script id="settings" type="application/json">${settings}</script>
<script type="module" src="/app.js"></script></head>
<body><div id="actions"></div><p id="status"></p><p id="account"></p><p id="scopes"></p>
<p id="error"></p><pre id="access-token"></pre></body></html>`;
  app = createServer((request, response) => {
    const js = request.url === '/app.js';
    response.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html' });
    response.end(js ? script : page);
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appOrigin = `http://localhost:${(app.address() as { port: number }).port}`;
});

test.afterAll(async () => {
  emulator?.kill();
  api?.kill();
  await new Promise((resolve) => (app ? app.close(resolve) : resolve(undefined)));
  rmSync(files, { recursive: true, force: true });
});

// The emulator's certificate is made at its start; the browser is told to accept it, as a
// developer accepts a local certificate (the API trusts it by name, through ENTRA_CA_FILE).
test.use({ ignoreHTTPSErrors: true });

async function ready(page: Page) {
  await expect(page.locator('#status')).toHaveText('ready');
  await expect(page.locator('#error')).toHaveText('');
}

async function accessToken(page: Page) {
  return (await page.locator('#access-token').textContent())!;
}

async function signIn(page: Page, name: string) {
  await page.goto(appOrigin);
  await ready(page);
  await expect(page.locator('#account')).toHaveText('signed out');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Pick an account' })).toBeVisible();
  expect(page.url()).toContain(`https://localhost:`);
  await page.getByRole('button', { name: new RegExp(name) }).click();
  // Entra answers at /sso; MSAL keeps the answer and goes back to the page the sign-in began on.
  await page.waitForURL(`${appOrigin}/`);
  await ready(page);
}

async function me(token: string) {
  const response = await fetch(`${apiOrigin}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return response.json();
}

test('an unmodified MSAL.js app signs alice in, acquires and refreshes the API token, and the API gives her channels', async ({ page }) => {
  const grants: string[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname.endsWith('/oauth2/v2.0/token')) {
      grants.push(new URLSearchParams(request.postData() ?? '').get('grant_type') ?? '');
    }
  });
  await signIn(page, 'Alice Moreau');
  // MSAL keys the account by the client_info the emulator returned: <oid>.<tid>.
  await expect(page.locator('#account')).toHaveText(`alice@contoso.example (${aliceOid}.${tenant})`);
  expect(grants).toEqual(['authorization_code']);
  const signInToken = await accessToken(page);
  expect(signInToken.split('.')).toHaveLength(3);
  await expect(page.locator('#scopes')).toContainText(scope);

  // Silently, from MSAL's cache: the same token, no request to Entra.
  await page.getByRole('button', { name: 'Get token' }).click();
  await ready(page);
  expect(await accessToken(page)).toBe(signInToken);
  expect(grants).toEqual(['authorization_code']);

  const alice = await me(signInToken);
  expect(alice.upn).toBe('alice@contoso.example');
  expect(alice.channels).toEqual(['All Call', 'Dispatch Ops', 'Fire North Tac']);

  // Forced: MSAL redeems its refresh token, and caches the new token under the same account.
  await page.getByRole('button', { name: 'Refresh token' }).click();
  await ready(page);
  await expect.poll(() => accessToken(page)).not.toBe(signInToken);
  const refreshed = await accessToken(page);
  expect(grants).toEqual(['authorization_code', 'refresh_token']);
  expect((await me(refreshed)).channels).toEqual(['All Call', 'Dispatch Ops', 'Fire North Tac']);
  await page.getByRole('button', { name: 'Get token' }).click();
  await ready(page);
  expect(await accessToken(page)).toBe(refreshed);
  expect(grants).toHaveLength(2);

  // Sign-out ends Entra's session and comes back to the app, signed out.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${appOrigin}/sso**`);
  await ready(page);
  await expect(page.locator('#account')).toHaveText('signed out');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Pick an account' })).toBeVisible();
});

test('an unmodified MSAL.js app signs carol in, and the API tells her why she has no channels', async ({ page }) => {
  await signIn(page, 'Carol Lindqvist');
  await expect(page.locator('#account')).toContainText('carol@contoso.example (');
  const carol = await me(await accessToken(page));
  expect(carol.upn).toBe('carol@contoso.example');
  expect(carol.channels).toEqual([]);
  expect(carol.notice.code).toBe('no_groups_claim');
  expect(carol.notice.message).toContain('sAMAccountName');
});
