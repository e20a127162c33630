import { defineConfig } from '@playwright/test';

// The e2e suite runs the real binaries: the Entra emulator and the API serving the release
// build of the SPA (dist/). `./dev test` builds them first. Ports differ from `./dev run`'s so
// both can run at once; Entra ignores the port of http://localhost redirect URIs.
export const apiPort = Number(process.env.E2E_API_PORT ?? 19300);
export const emulatorPort = Number(process.env.E2E_EMULATOR_PORT ?? 19400);
// A second pair whose app registration is misconfigured (fixtures/misconfigured-manifest.json).
export const misconfiguredApiPort = apiPort + 1;
const misconfiguredEmulatorPort = emulatorPort + 1;
// A third API against the first emulator whose SPA asks for Microsoft Graph's User.Read instead
// of the API's scope (the misconfiguration ICE warns about).
export const graphScopeApiPort = apiPort + 2;
// A fourth API serving two organisations (fixtures/organisations.toml): the SPA asks which.
export const organisationsApiPort = apiPort + 3;
// A fifth pair whose tenant has policies on its apps (fixtures/policies-directory.json): the
// SPA's app needs MFA, another admits assigned users only, a third is blocked, a fourth is
// named by an App ID URI without its client id.
export const policiesApiPort = apiPort + 4;
export const policiesClientIds = {
  mfa: '5b0a0000-0000-4000-8000-00000000a001',
  assignedOnly: '5b0a0000-0000-4000-8000-00000000a002',
  blocked: '5b0a0000-0000-4000-8000-00000000a003',
  namedByUri: '5b0a0000-0000-4000-8000-00000000a004',
};
const policiesEmulatorPort = emulatorPort + 4;
// A sixth pair for SCIM provisioning: cycles there change who is disabled and what is
// provisioned, which no other test should see.
export const provisioningApiPort = apiPort + 5;
export const provisioningEmulatorPort = emulatorPort + 5;
// A seventh pair for an organisation on the implicit flow: its registration allows the implicit
// grant (fixtures/implicit-manifest.json, printed by `channels-api manifest` with
// CHANNELS_SPA_IMPLICIT_FLOW=true), and a token lifetime policy of 10 minutes lets a test reach
// the renewal.
export const implicitApiPort = apiPort + 6;
export const implicitEmulatorPort = emulatorPort + 6;
// An eighth API on the implicit flow against the first emulator, whose registration does not
// allow the implicit grant (AADSTS700054).
export const implicitRefusedApiPort = apiPort + 7;
// A ninth pair serving Azure China's shapes (ENTRA_EMULATOR_CLOUD=china; the API is told the
// cloud, as an authority on loopback names none): its issuer is login.partner.microsoftonline.cn.
export const chinaApiPort = apiPort + 8;
export const chinaEmulatorPort = emulatorPort + 8;
export const target = process.env.CARGO_TARGET_DIR ?? '../target';
/** The database of the provisioning pair's API (`scim-token create` writes its token there). */
export const provisioningDatabase = `sqlite://${target}/e2e-provisioning.db?mode=rwc`;

/** The Entra emulator on `port`, with the demo tenant (and `env` on top). */
function emulator(port: number, env: Record<string, string> = {}) {
  return {
    command: `${target}/debug/entra-emulator`,
    url: `http://127.0.0.1:${port}/`,
    env: { ENTRA_EMULATOR_ADDR: `127.0.0.1:${port}`, RUST_LOG: 'warn', ...env },
    reuseExistingServer: false,
    timeout: 30_000,
  };
}

/** The API on `port`, serving the release build of the SPA, against the emulator on `idp` (the
 * demo's trust: an http emulator on loopback). */
function api(port: number, idp: number, database: string, env: Record<string, string> = {}) {
  return {
    command: `${target}/debug/channels-api`,
    url: `http://127.0.0.1:${port}/healthz`,
    env: {
      CHANNELS_API_ADDR: `127.0.0.1:${port}`,
      ENTRA_AUTHORITY: `http://127.0.0.1:${idp}`,
      CHANNELS_SPA_DIR: '../dist',
      CHANNELS_DATABASE_URL: database.startsWith('sqlite:') ? database : `sqlite://${target}/${database}.db?mode=rwc`,
      // The demo: a local emulator on http://127.0.0.1 is trusted only so.
      CHANNELS_DEMO: '1',
      RUST_LOG: 'warn',
      ...env,
    },
    reuseExistingServer: false,
    timeout: 30_000,
  };
}

export default defineConfig({
  testDir: '.',
  fullyParallel: false,
  // A `test.only` left behind would run one test and pass: refused on CI.
  forbidOnly: !!process.env.CI,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  reporter: [['list'], ['json', { outputFile: 'test-results/results.json' }]],
  use: {
    baseURL: `http://localhost:${apiPort}`,
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: [
    emulator(emulatorPort),
    api(apiPort, emulatorPort, 'e2e-members'),
    emulator(misconfiguredEmulatorPort, { ENTRA_EMULATOR_APP_MANIFEST: 'fixtures/misconfigured-manifest.json' }),
    api(misconfiguredApiPort, misconfiguredEmulatorPort, 'e2e-misconfigured'),
    api(graphScopeApiPort, emulatorPort, 'e2e-graph-scope', { CHANNELS_SPA_SCOPE: 'User.Read' }),
    api(organisationsApiPort, emulatorPort, 'e2e-organisations', { CHANNELS_CONFIG: 'fixtures/organisations.toml' }),
    emulator(policiesEmulatorPort, { ENTRA_EMULATOR_DIRECTORY: 'fixtures/policies-directory.json' }),
    api(policiesApiPort, policiesEmulatorPort, 'e2e-policies', { CHANNELS_CONFIG: 'fixtures/policies.toml' }),
    emulator(provisioningEmulatorPort),
    api(provisioningApiPort, provisioningEmulatorPort, provisioningDatabase),
    emulator(implicitEmulatorPort, {
      ENTRA_EMULATOR_APP_MANIFEST: 'fixtures/implicit-manifest.json',
      ENTRA_EMULATOR_ACCESS_TOKEN_LIFETIME: '600',
    }),
    api(implicitApiPort, implicitEmulatorPort, 'e2e-implicit', { CHANNELS_SPA_IMPLICIT_FLOW: 'true' }),
    api(implicitRefusedApiPort, emulatorPort, 'e2e-implicit-refused', { CHANNELS_SPA_IMPLICIT_FLOW: 'true' }),
    emulator(chinaEmulatorPort, { ENTRA_EMULATOR_CLOUD: 'china' }),
    api(chinaApiPort, chinaEmulatorPort, 'e2e-china', { ENTRA_CLOUD: 'china' }),
  ],
});
