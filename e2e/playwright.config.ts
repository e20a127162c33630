import { defineConfig } from '@playwright/test';

// The e2e suite runs the real binaries: the Entra emulator and the API serving the release
// build of the SPA (dist/). `./dev test` builds them first. Ports differ from `./dev run`'s so
// both can run at once; Entra ignores the port of http://localhost redirect URIs.
export const apiPort = Number(process.env.E2E_API_PORT ?? 19300);
export const emulatorPort = Number(process.env.E2E_EMULATOR_PORT ?? 19400);
const target = process.env.CARGO_TARGET_DIR ?? '../target';

export default defineConfig({
  testDir: '.',
  fullyParallel: false,
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
    {
      command: `${target}/debug/entra-emulator`,
      url: `http://127.0.0.1:${emulatorPort}/`,
      env: { ENTRA_EMULATOR_ADDR: `127.0.0.1:${emulatorPort}`, RUST_LOG: 'warn' },
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: `${target}/debug/channels-api`,
      url: `http://127.0.0.1:${apiPort}/healthz`,
      env: {
        CHANNELS_API_ADDR: `127.0.0.1:${apiPort}`,
        ENTRA_AUTHORITY: `http://127.0.0.1:${emulatorPort}`,
        CHANNELS_SPA_DIR: '../dist',
        CHANNELS_DATABASE_URL: `sqlite://${target}/e2e-members.db?mode=rwc`,
        RUST_LOG: 'warn',
      },
      reuseExistingServer: false,
      timeout: 30_000,
    },
  ],
});
