// The benchmark suite (`./dev bench`): every figure measured in this one run on this machine,
// side by side with its peer, and written to bench/results/results.json and results.md.
// Everything listens on loopback, every load run is bounded in time, and every process it
// starts is stopped before it ends. Expects release builds in target/release and dist/.
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spaFiles } from './spa-files.mjs';
import { cpuSeconds, killAll, median, release, root, rssKiB, sleep, start, stop, waitFor, wrk as wrkRun } from './processes.mjs';

const work = path.join(root, 'bench', 'work');
const out = path.join(root, 'bench', 'results');
const PORTS = { idp: 19500, api: 19510, node: 19520, emulator: 19530, peerApi: 19540, peerApp: 19550 };
const TENANT = '4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const CLIENT = '6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d';
const LOAD = { threads: 2, connections: 64, seconds: 10, warmup: 2 };
const TOKEN_SETS = [10, 300, 1000, 100000];
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
fs.mkdirSync(out, { recursive: true });

const log = (...a) => console.log('bench:', ...a);
const wrk = (port, tokens, seconds) => wrkRun(port, tokens, seconds, LOAD);

/** A measured run after a warm-up, with CPU time per request and memory after. */
function measured(port, pid, tokens, seconds = LOAD.seconds) {
  if (LOAD.warmup) wrk(port, tokens, LOAD.warmup);
  const cpu0 = cpuSeconds(pid);
  const r = wrk(port, tokens, seconds);
  const cpu = cpuSeconds(pid) - cpu0;
  return { ...r, cpu_us_per_request: (cpu * 1e6) / r.requests, rss_kib: rssKiB(pid) };
}

async function startApi(workers) {
  const db = path.join(work, `members-${Date.now()}.db`);
  const env = {
    CHANNELS_API_ADDR: `127.0.0.1:${PORTS.api}`,
    ENTRA_AUTHORITY: `http://127.0.0.1:${PORTS.idp}`,
    CHANNELS_DEMO: '1',
    CHANNELS_DATABASE_URL: `sqlite://${db}?mode=rwc`,
    CHANNELS_SPA_DIR: path.join(root, 'dist'),
  };
  if (workers) env.CHANNELS_API_WORKERS = String(workers);
  const api = start(path.join(release, 'channels-api'), [], env);
  await waitFor(`http://127.0.0.1:${PORTS.api}/readyz`);
  return api;
}

function gz(file) {
  const raw = fs.readFileSync(file);
  return { raw: raw.length, gzip9: zlib.gzipSync(raw, { level: 9 }).length };
}

function payload() {
  const dist = path.join(root, 'dist');
  const { firstLoad, later } = spaFiles(dist);
  const sum = (names) => names.map((name) => gz(path.join(dist, name))).reduce((a, b) => ({ raw: a.raw + b.raw, gzip9: a.gzip9 + b.gzip9 }), { raw: 0, gzip9: 0 });
  // The first load by kind (index.html apart), then the chunks fetched once Entra has answered.
  const ours = {};
  for (const kind of ['wasm', 'js', 'css']) ours[kind] = sum(firstLoad.filter((name) => name.endsWith(`.${kind}`)));
  ours.total = sum(firstLoad.filter((name) => name !== 'index.html'));
  ours.chunks = { ...sum(later), files: later.length };
  const peers = {};
  for (const [name, spec, file] of [
    ['@azure/msal-browser', '@azure/msal-browser@5.29.0', 'lib/msal-browser.min.js'],
    ['oidc-client-ts', 'oidc-client-ts@3.5.0', 'dist/browser/oidc-client-ts.min.js'],
  ]) {
    const dir = fs.mkdtempSync(path.join(work, 'pack-'));
    const tgz = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', dir], { encoding: 'utf8' }).trim().split('\n').at(-1);
    execFileSync('tar', ['xzf', path.join(dir, tgz), '-C', dir]);
    peers[name] = { version: spec.split('@').at(-1), file, ...gz(path.join(dir, 'package', file)) };
  }
  // The same job written with Microsoft's own libraries, as its page downloads it.
  const peerDir = path.join(root, 'bench', 'peers', 'msal-react');
  const lock = JSON.parse(fs.readFileSync(path.join(peerDir, 'package-lock.json'), 'utf8')).packages;
  const version = (name) => lock[`node_modules/${name}`].version;
  const [script, page] = [gz(path.join(peerDir, 'dist', 'app.js')), gz(path.join(peerDir, 'index.html'))];
  const msalReact = {
    versions: `@azure/msal-browser ${version('@azure/msal-browser')}, @azure/msal-react ${version('@azure/msal-react')}, react ${version('react')}, esbuild ${version('esbuild')}`,
    raw: script.raw + page.raw,
    gzip9: script.gzip9 + page.gzip9,
  };
  ours.page = gz(path.join(dist, 'index.html'));
  ours.all = { raw: ours.total.raw + ours.page.raw, gzip9: ours.total.gzip9 + ours.page.gzip9 };
  ours.whole = { raw: ours.all.raw + ours.chunks.raw, gzip9: ours.all.gzip9 + ours.chunks.gzip9 };
  return { ours, peers, msal_react: msalReact, ratio: ours.all.gzip9 / msalReact.gzip9, ratio_whole: ours.whole.gzip9 / msalReact.gzip9, command: "./dev's release build (trunk build --release on a pinned nightly, panic = immediate-abort, no wasm reference-types, the wasm split at its split points, the JS glue minified by terser); the peer bundled by esbuild --minify with NODE_ENV=production (bench/peers/msal-react/build.mjs); gzip -9 of each file (zlib level 9)" };
}

/** The answer's bytes as the request accepts them: brotli, gzip or whole, as channels-api
 * serves its own files (their copies are written at build time: e2e/post-build.mjs). */
function encoded(request, bytes) {
  const accepted = String(request.headers['accept-encoding'] ?? '');
  if (/\bbr\b/.test(accepted)) return ['br', bytes.br];
  if (/\bgzip\b/.test(accepted)) return ['gzip', bytes.gzip];
  return [null, bytes.whole];
}

/** `whole`, with its brotli (quality 11) and gzip (level 9) copies. */
function compressedOnce(whole) {
  const br = zlib.brotliCompressSync(whole, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } });
  return { whole, br, gzip: zlib.gzipSync(whole, { level: 9 }) };
}

/** Serves the MSAL React peer: its page (with its settings), its bundle, and /api/ passed on
 * to `apiPort`, so that both apps call the API on their own origin. Like ours, its files go
 * compressed to a browser that accepts it. */
function servePeer(port, settings, apiPort) {
  const dir = path.join(root, 'bench', 'peers', 'msal-react');
  const page = compressedOnce(Buffer.from(fs.readFileSync(path.join(dir, 'index.html'), 'utf8').replace('SETTINGS', JSON.stringify(settings))));
  const script = compressedOnce(fs.readFileSync(path.join(dir, 'dist', 'app.js')));
  const server = http.createServer((request, response) => {
    if (request.url.startsWith('/api/')) {
      const upstream = http.request({ host: '127.0.0.1', port: apiPort, path: request.url, method: request.method, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode, answer.headers);
        answer.pipe(response);
      });
      request.pipe(upstream);
      return;
    }
    const js = request.url === '/app.js';
    const [encoding, body] = encoded(request, js ? script : page);
    const headers = { 'content-type': js ? 'text/javascript' : 'text/html', 'cache-control': 'no-cache', vary: 'accept-encoding' };
    response.writeHead(200, encoding ? { ...headers, 'content-encoding': encoding } : headers);
    response.end(body);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

/** A phone on a slow network, as Chromium's DevTools protocol emulates it: Lighthouse's "slow
 * 4G" (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up) and a CPU 4 times slower. */
const THROTTLED = { latency_ms: 150, download_kbit_s: 1600, upload_kbit_s: 750, cpu_slowdown: 4 };

/** One sign-in through the app at `base` in a fresh browser context: navigation to an
 * interactive "Sign in with Microsoft" button, and its click to alice's channels on screen (the
 * emulator's account picker included); `throttled`, under [`THROTTLED`] from the first request
 * on. Each end is taken by the page itself, when the button or the first channel enters the
 * document: Playwright polls for an element at growing intervals (up to 500 ms apart), which
 * lagged behind our button by 400 to 550 ms and the peer's by 60 to 80 ms under the throttled
 * profile (its load event comes later, when the poll starts), so its own clock would measure the
 * poll. The first load counts from the navigation's start; the click from just before it. */
async function signInOnce(browser, base, throttled) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    await context.addInitScript(() => {
      const seen = (window.__seen = {});
      const now = () => performance.timeOrigin + performance.now();
      new MutationObserver((_, observer) => {
        if (!seen.button && [...document.querySelectorAll('button')].some((b) => b.textContent.includes('Sign in with Microsoft'))) {
          seen.button = now();
        }
        if (!seen.channels && document.querySelector('ul[aria-label="Your channels"] li')) seen.channels = now();
        if (seen.button && seen.channels) observer.disconnect();
      }).observe(document, { childList: true, subtree: true, characterData: true });
    });
    const page = await context.newPage();
    if (throttled) {
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: THROTTLED.latency_ms,
        downloadThroughput: (THROTTLED.download_kbit_s * 1000) / 8,
        uploadThroughput: (THROTTLED.upload_kbit_s * 1000) / 8,
      });
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLED.cpu_slowdown });
    }
    await page.goto(base + '/');
    const button = page.getByRole('button', { name: 'Sign in with Microsoft' });
    await button.waitFor();
    const firstLoad = await page.evaluate(() => window.__seen.button - performance.timeOrigin);
    const clicked = performance.timeOrigin + performance.now();
    await button.click();
    await page.getByRole('button', { name: /Alice Moreau/ }).click();
    await page.getByRole('list', { name: 'Your channels' }).getByRole('listitem').first().waitFor();
    const roundTrip = (await page.evaluate(() => window.__seen.channels)) - clicked;
    if (!Number.isFinite(firstLoad) || !Number.isFinite(roundTrip)) {
      throw new Error(`expected the page to see the button and a channel; found ${firstLoad} and ${roundTrip} ms`);
    }
    return { firstLoad, roundTrip };
  } finally {
    await context.close();
  }
}

/** Medians over `runs` sign-ins through each app of `bases` (name → URL), the apps taking turns
 * run by run and in the other order every second run (ABBA), so that the shared machine's load
 * drifts over both alike; a first sign-in through each (the member created, the keys fetched)
 * is not counted. */
async function signInTimes(browser, bases, runs, throttled = false) {
  const apps = Object.entries(bases);
  for (const [, base] of apps) await signInOnce(browser, base, throttled);
  const times = Object.fromEntries(apps.map(([app]) => [app, { firstLoad: [], roundTrip: [] }]));
  for (let i = 0; i < runs; i++) {
    for (const [app, base] of i % 2 ? [...apps].reverse() : apps) {
      const { firstLoad, roundTrip } = await signInOnce(browser, base, throttled);
      times[app].firstLoad.push(firstLoad);
      times[app].roundTrip.push(roundTrip);
    }
  }
  const summary = (samples) => ({ median: median(samples), runs, samples: samples.map(Math.round) });
  return Object.fromEntries(
    Object.entries(times).map(([app, { firstLoad, roundTrip }]) => [
      app,
      { first_load_to_sign_in_button_ms: summary(firstLoad), click_to_channels_ms: summary(roundTrip) },
    ]),
  );
}

/** Both apps, taking turns run by run, against one Entra emulator in its HTTPS mode (MSAL refuses an
 * http authority) and one API trusting its certificate. */
async function signIn() {
  const { chromium } = await import(path.join(root, 'e2e', 'node_modules', 'playwright-core', 'index.mjs'));
  const certificate = path.join(work, 'emulator.pem');
  const emulator = start(path.join(release, 'entra-emulator'), [], {
    ENTRA_EMULATOR_ADDR: `127.0.0.1:${PORTS.emulator}`,
    ENTRA_EMULATOR_TLS_CERT: certificate,
  });
  for (let i = 0; i < 100 && !(fs.existsSync(certificate) && fs.readFileSync(certificate, 'utf8').includes('END CERTIFICATE')); i++) await sleep(100);
  const authority = `https://localhost:${PORTS.emulator}`;
  const api = start(path.join(release, 'channels-api'), [], {
    CHANNELS_CONFIG: path.join(root, 'crates', 'api', 'config', 'demo.toml'),
    CHANNELS_API_ADDR: `127.0.0.1:${PORTS.peerApi}`,
    ENTRA_AUTHORITY: authority,
    ENTRA_CA_FILE: certificate,
    CHANNELS_DATABASE_URL: `sqlite://${path.join(work, 'sign-in.db')}?mode=rwc`,
    CHANNELS_SPA_DIR: path.join(root, 'dist'),
  });
  await waitFor(`http://127.0.0.1:${PORTS.peerApi}/readyz`);
  const peer = await servePeer(PORTS.peerApp, { clientId: CLIENT, authority: `${authority}/${TENANT}`, scope: `api://${CLIENT}/UserProfile.ReadWrite` }, PORTS.peerApi);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    // Localhost, any port: a redirect URI the demo registration has on the SPA platform.
    const bases = { ours: `http://localhost:${PORTS.peerApi}`, msal_react: `http://localhost:${PORTS.peerApp}` };
    const { ours, msal_react: msalReact } = await signInTimes(browser, bases, 20);
    const { ours: oursThrottled, msal_react: msalReactThrottled } = await signInTimes(browser, bases, 15, true);
    return {
      ours,
      msal_react: msalReact,
      throttled: { profile: THROTTLED, ours: oursThrottled, msal_react: msalReactThrottled },
      note: 'headless Chromium, a fresh browser context per run, the apps taking turns; both apps against the same emulator over HTTPS and the same API; the emulator sign-in page is part of the round trip',
    };
  } finally {
    await browser.close();
    await new Promise((resolve) => peer.close(resolve));
    await stop(api);
    await stop(emulator);
  }
}

async function main() {
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memory_gib: Math.round(os.totalmem() / 2 ** 30) },
    command: './dev bench',
  };
  log('payload sizes');
  results.payload = payload();

  log('minting tokens (one per distinct user)');
  const tokens = path.join(work, 'tokens-100000.txt');
  const idp = start(path.join(release, 'channels-bench'), ['idp', `127.0.0.1:${PORTS.idp}`, '100000', tokens], {}, true);
  await new Promise((resolve, reject) => {
    idp.stdout.on('data', (d) => String(d).includes('ready') && resolve());
    idp.on('exit', () => reject(new Error('channels-bench idp stopped')));
  });
  const all = fs.readFileSync(tokens, 'utf8').trim().split('\n');
  const sets = Object.fromEntries(TOKEN_SETS.map((n) => {
    const file = path.join(work, `tokens-${n}.txt`);
    fs.writeFileSync(file, all.slice(0, n).join('\n') + '\n');
    return [n, file];
  }));

  log('GET /api/me: channels-api vs Node.js + jose, 300 users, 3 interleaved rounds');
  let api = await startApi();
  const node = start('node', [path.join(root, 'bench', 'peers', 'node-jose', 'server.mjs')], {
    PORT: String(PORTS.node),
    JWKS_URL: `http://127.0.0.1:${PORTS.idp}/${TENANT}/discovery/v2.0/keys`,
    ISSUER: `http://127.0.0.1:${PORTS.idp}/${TENANT}/v2.0`,
    AUDIENCE: CLIENT,
  });
  await sleep(500);
  const rounds = { ours: [], peer: [] };
  for (let round = 0; round < 3; round++) {
    rounds.ours.push(measured(PORTS.api, api.pid, sets[300]));
    rounds.peer.push(measured(PORTS.node, node.pid, sets[300]));
  }
  await stop(api);
  await stop(node);
  // The round with the median throughput stands for each server; every round is kept in the JSON.
  const byMedian = (runs) => [...runs].sort((a, b) => a.rps - b.rps)[1];
  const ours = { ...byMedian(rounds.ours), rounds_rps: rounds.ours.map((r) => r.rps) };
  const peer = { ...byMedian(rounds.peer), rounds_rps: rounds.peer.map((r) => r.rps) };

  log('cold path: a fresh API, every token new');
  api = await startApi();
  const cpu0 = cpuSeconds(api.pid);
  const coldRun = wrk(PORTS.api, sets[100000], 3);
  const cold = { ...coldRun, cpu_us_per_request: ((cpuSeconds(api.pid) - cpu0) * 1e6) / coldRun.requests, all_tokens_new: coldRun.requests <= 100000 };
  await stop(api);

  results.api = {
    load: `${LOAD.threads} threads, ${LOAD.connections} connections, ${LOAD.seconds} s after a ${LOAD.warmup} s warm-up`,
    channels_api_warm: ours,
    node_jose_warm: peer,
    channels_api_cold: cold,
    throughput_ratio: ours.rps / peer.rps,
    throughput_ratio_per_round: rounds.ours.map((r, i) => r.rps / rounds.peer[i].rps),
    targets: { throughput_ratio_at_least: 3, p99_ms_at_most: 5 },
  };

  log('scaling: worker threads and tokens in rotation');
  results.scaling = [];
  for (const workers of [1, 2]) {
    for (const n of [10, 1000, 100000]) {
      api = await startApi(workers);
      const r = measured(PORTS.api, api.pid, sets[n]);
      results.scaling.push({ workers, distinct_tokens: n, rps: r.rps, p50_us: r.p50_us, p99_us: r.p99_us, non_2xx: r.non_2xx, cpu_us_per_request: r.cpu_us_per_request, rss_kib: r.rss_kib });
      await stop(api);
    }
  }

  await stop(idp);
  log('sign-in in headless Chromium: ours and the MSAL React peer');
  results.sign_in = await signIn();

  fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(path.join(out, 'results.md'), markdown(results));
  log(`wrote ${path.relative(root, out)}/results.json and results.md`);
  const failures = [ours, peer, ...results.scaling].filter((r) => r.non_2xx || r.socket_errors);
  if (failures.length) throw new Error(`${failures.length} load run(s) had errors: ${JSON.stringify(failures)}`);
}

function kb(bytes) {
  return (bytes / 1000).toFixed(1);
}

function markdown(r) {
  const p = r.payload;
  const ms = (us) => (us / 1000).toFixed(2);
  const lines = [
    '# Benchmark results',
    '',
    `Measured ${r.date} with \`${r.command}\` on ${r.machine.cpus} × ${r.machine.cpu}, ${r.machine.memory_gib} GiB. ` +
      'All figures come from this one run; compare ratios, not absolutes (the machine is shared).',
    '',
    '## SPA payload (KB, 1 KB = 1000 bytes)',
    '',
    '| what | raw | gzip -9 |',
    '|---|---:|---:|',
    `| our wasm (the first load's) | ${kb(p.ours.wasm.raw)} | ${kb(p.ours.wasm.gzip9)} |`,
    `| our js | ${kb(p.ours.js.raw)} | ${kb(p.ours.js.gzip9)} |`,
    `| our css | ${kb(p.ours.css.raw)} | ${kb(p.ours.css.gzip9)} |`,
    `| our index.html | ${kb(p.ours.page.raw)} | ${kb(p.ours.page.gzip9)} |`,
    `| **our first load: all the page downloads before "Sign in"** | **${kb(p.ours.all.raw)}** | **${kb(p.ours.all.gzip9)}** |`,
    `| our wasm chunks, fetched once Entra has answered (${p.ours.chunks.files} files: the completion and the renewals, the signed-in page, the code they share) | ${kb(p.ours.chunks.raw)} | ${kb(p.ours.chunks.gzip9)} |`,
    `| **our whole app: the first load and every chunk** | **${kb(p.ours.whole.raw)}** | **${kb(p.ours.whole.gzip9)}** |`,
    `| **the MSAL React app** (bench/peers/msal-react: ${p.msal_react.versions}; its bundle and page, all of it on the first load) | **${kb(p.msal_react.raw)}** | **${kb(p.msal_react.gzip9)}** |`,
    ...Object.entries(p.peers).map(([name, s]) => `| ${name} ${s.version} (\`${s.file}\`, library only) | ${kb(s.raw)} | ${kb(s.gzip9)} |`),
    '',
    `Ours against the MSAL React app (gzip -9): the first load **${p.ratio.toFixed(2)}×** ` +
      `(${kb(p.ours.all.gzip9)} KB against ${kb(p.msal_react.gzip9)} KB; must be below 1, aim 0.85 or less): ` +
      (p.ratio < 1 ? '**smaller**' : '**not smaller**') +
      `; the whole app, every chunk counted, **${p.ratio_whole.toFixed(2)}×** (${kb(p.ours.whole.gzip9)} KB).`,
    '',
    '## `GET /api/me` with valid RS256 tokens',
    '',
    `${r.api.load}; 300 distinct users; 3 rounds, ours and the peer interleaved, the median round shown. ` +
      `Command: \`${r.api.channels_api_warm.command}\` (the peer: the same on its port).`,
    '',
    '| server | requests/s | p50 ms | p99 ms | CPU µs/request | RSS MiB | errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...[['channels-api (warm: verified-token cache)', r.api.channels_api_warm], ['Node.js + jose (bench/peers/node-jose)', r.api.node_jose_warm]].map(
      ([name, x]) => `| ${name} | ${x.rps.toFixed(0)} | ${ms(x.p50_us)} | ${ms(x.p99_us)} | ${x.cpu_us_per_request.toFixed(0)} | ${(x.rss_kib / 1024).toFixed(1)} | ${x.non_2xx + x.socket_errors} |`,
    ),
    `| channels-api (cold: every token and member new, 3 s${r.api.channels_api_cold.all_tokens_new ? '' : ', NOT all new'}) | ${r.api.channels_api_cold.rps.toFixed(0)} | ${ms(r.api.channels_api_cold.p50_us)} | ${ms(r.api.channels_api_cold.p99_us)} | ${r.api.channels_api_cold.cpu_us_per_request.toFixed(0)} | | ${r.api.channels_api_cold.non_2xx + r.api.channels_api_cold.socket_errors} |`,
    '',
    `Throughput ratio channels-api / Node.js + jose: **${r.api.throughput_ratio.toFixed(2)}×** of the medians ` +
      `(per round: ${r.api.throughput_ratio_per_round.map((x) => x.toFixed(2) + '×').join(', ')}; target ≥ 3×); ` +
      `channels-api p99 ${ms(r.api.channels_api_warm.p99_us)} ms (target ≤ 5 ms). The load generator shares the 2 cores with the server.`,
    '',
    '## Scaling',
    '',
    'Each row: a fresh API with `CHANNELS_API_WORKERS` threads, the same wrk command over that many distinct tokens.',
    '',
    '| worker threads | distinct tokens | requests/s | p50 ms | p99 ms | CPU µs/request | RSS MiB |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...r.scaling.map((s) => `| ${s.workers} | ${s.distinct_tokens} | ${s.rps.toFixed(0)} | ${ms(s.p50_us)} | ${ms(s.p99_us)} | ${s.cpu_us_per_request.toFixed(0)} | ${(s.rss_kib / 1024).toFixed(1)} |`),
    '',
    'With 100 000 tokens in rotation each token comes back rarely, so most requests pay for RSA verification ' +
      'and, the first time, for creating the member; the verified-token cache holds up to 100 000 entries for at most 5 minutes.',
    '',
    '## Sign-in in headless Chromium (median of 20 each)',
    '',
    'Playwright (`bench/run.mjs`, function `signIn`): ours served by the API (release build), the MSAL React peer by the bench ' +
      '(its /api/ passed on to the same API), each file brotli-compressed for the browser (ours by the release build, the peer\'s by the bench at start); ' +
      'both against one Entra emulator over HTTPS; a fresh browser context per run, the two apps taking turns run by run (in the other order every second run), after one uncounted sign-in through each. ' +
      'Each end is the moment the page itself sees the button or the first channel enter the document (a MutationObserver): the first load from the navigation\'s start, the sign-in from just before the click.',
    '',
    '| what | ours ms | MSAL React ms | ratio |',
    '|---|---:|---:|---:|',
    ...[['first load to an interactive "Sign in with Microsoft" button', 'first_load_to_sign_in_button_ms'], ['click "Sign in" → pick the user → channels rendered', 'click_to_channels_ms']].map(
      ([what, key]) => `| ${what} | ${r.sign_in.ours[key].median.toFixed(0)} | ${r.sign_in.msal_react[key].median.toFixed(0)} | ${(r.sign_in.ours[key].median / r.sign_in.msal_react[key].median).toFixed(2)}× |`,
    ),
    '',
    `Throttled, as a phone on a slow network (median of ${r.sign_in.throttled.ours.click_to_channels_ms.runs} each): ` +
      `Chromium's DevTools protocol emulating a ${r.sign_in.throttled.profile.latency_ms} ms round trip, ` +
      `${r.sign_in.throttled.profile.download_kbit_s / 1000} Mbit/s down and ${r.sign_in.throttled.profile.upload_kbit_s} kbit/s up ` +
      `(Lighthouse's slow 4G), and a CPU ${r.sign_in.throttled.profile.cpu_slowdown} times slower, from the first request on:`,
    '',
    '| what | ours ms | MSAL React ms | ratio |',
    '|---|---:|---:|---:|',
    ...[['first load to an interactive "Sign in with Microsoft" button', 'first_load_to_sign_in_button_ms'], ['click "Sign in" → pick the user → channels rendered', 'click_to_channels_ms']].map(
      ([what, key]) => `| ${what} | ${r.sign_in.throttled.ours[key].median.toFixed(0)} | ${r.sign_in.throttled.msal_react[key].median.toFixed(0)} | ${(r.sign_in.throttled.ours[key].median / r.sign_in.throttled.msal_react[key].median).toFixed(2)}× |`,
    ),
    '',
    'Aim: ours at 0.8× the peer\'s time or less, on both profiles.',
    '',
  ];
  return lines.join('\n');
}

/** `node bench/run.mjs soak`: 60 s at 64 connections after a 10 s warm-up, RSS sampled every 5 s. */
async function soak() {
  const SOAK = { users: 1000, warmup: 10, seconds: 60, sample_ms: 5000, max_rss_growth: 0.1 };
  log(`soak: minting ${SOAK.users} users' tokens`);
  const tokens = path.join(work, `tokens-${SOAK.users}.txt`);
  const idp = start(path.join(release, 'channels-bench'), ['idp', `127.0.0.1:${PORTS.idp}`, String(SOAK.users), tokens], {}, true);
  await new Promise((resolve, reject) => {
    idp.stdout.on('data', (d) => String(d).includes('ready') && resolve());
    idp.on('exit', () => reject(new Error('channels-bench idp stopped')));
  });
  const api = await startApi();
  log(`soak: warm-up ${SOAK.warmup} s`);
  wrk(PORTS.api, tokens, SOAK.warmup);
  const baseline = rssKiB(api.pid);
  const samples = [{ at_s: 0, rss_kib: baseline }];
  const t0 = Date.now();
  const timer = setInterval(() => samples.push({ at_s: Math.round((Date.now() - t0) / 1000), rss_kib: rssKiB(api.pid) }), SOAK.sample_ms);
  log(`soak: ${SOAK.seconds} s at ${LOAD.connections} connections`);
  const args = ['-t', String(LOAD.threads), '-c', String(LOAD.connections), '-d', `${SOAK.seconds}s`, '--latency',
    '-s', path.join(root, 'bench', 'wrk', 'tokens.lua'), `http://127.0.0.1:${PORTS.api}/api/me`, '--', tokens, String(LOAD.threads)];
  const text = await new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.on('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`wrk exited with ${code}`))));
  });
  clearInterval(timer);
  const end = rssKiB(api.pid);
  samples.push({ at_s: SOAK.seconds, rss_kib: end });
  await stop(api);
  await stop(idp);
  const r = JSON.parse(text.trim().split('\n').at(-1));
  const errors = r.socket_errors + r.non_2xx;
  const growth = (end - baseline) / baseline;
  const results = {
    date: new Date().toISOString(),
    command: './dev soak',
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model },
    load: `wrk ${args.join(' ')}`.replaceAll(root + '/', ''),
    users: SOAK.users,
    requests: r.requests,
    rps: r.requests / (r.duration_us / 1e6),
    errors,
    p99_us: r.p99_us,
    rss_kib: { after_warmup: baseline, end, max: Math.max(...samples.map((x) => x.rss_kib)), samples },
    rss_growth: growth,
    targets: { errors: 0, rss_growth_at_most: SOAK.max_rss_growth },
    met: errors === 0 && growth <= SOAK.max_rss_growth,
  };
  fs.writeFileSync(path.join(out, 'soak.json'), JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(path.join(out, 'soak.md'), [
    '# Soak',
    '',
    `Measured ${results.date} with \`./dev soak\` on ${results.machine.cpus} × ${results.machine.cpu}: ` +
      `\`GET /api/me\` with valid tokens for ${SOAK.users} users, ${LOAD.connections} connections, ${SOAK.seconds} s after a ${SOAK.warmup} s warm-up.`,
    '',
    '| requests | requests/s | errors | p99 ms | RSS after warm-up MiB | RSS at end MiB | RSS max MiB | growth | targets |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    `| ${r.requests} | ${results.rps.toFixed(0)} | ${errors} | ${(r.p99_us / 1000).toFixed(2)} | ${(baseline / 1024).toFixed(1)} | ` +
      `${(end / 1024).toFixed(1)} | ${(results.rss_kib.max / 1024).toFixed(1)} | ${(growth * 100).toFixed(1)} % | ` +
      `0 errors, growth ≤ 10 %: **${results.met ? 'met' : 'not met'}** |`,
    '',
    `Command: \`${results.load}\``,
    '',
  ].join('\n'));
  log(`soak: ${r.requests} requests, ${errors} errors, RSS ${baseline} → ${end} KiB (${(growth * 100).toFixed(1)} %)`);
  if (!results.met) throw new Error('soak targets not met');
}

(process.argv[2] === 'soak' ? soak() : main()).catch((error) => {
  console.error('bench:', error);
  process.exitCode = 1;
}).finally(killAll);
