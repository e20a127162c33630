// `./dev scale`: three channels-api instances on one PostgreSQL behind HAProxy with the
// repository's configuration (deploy/haproxy.cfg), on loopback, under load and failure. Writes
// bench/results/scale.json and scale.md. Every load is bounded in count or time.
//
// Expects the release binaries, `haproxy` and `wrk` on PATH, and a PostgreSQL server it may stop
// and start: CHANNELS_TEST_POSTGRES_URL, _STOP and _START (./dev starts a throwaway one).
import { exec, execSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { killAll, release, root, sleep, start, startIdp, stop, waitFor, wrk } from './processes.mjs';

const work = path.join(root, 'bench', 'work-scale');
const out = path.join(root, 'bench', 'results');
const PORTS = { idp: 19600, haproxy: 19610, apis: [19621, 19622, 19623] };
const USERS = 40000;
const LOAD = { threads: 2, connections: 64 };
const database = process.env.CHANNELS_TEST_POSTGRES_URL;
const log = (...a) => console.log('scale:', ...a);
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
const socket = path.join(work, 'haproxy.sock');

/** Starts instance `i` (1-based) and waits until it is ready. */
async function instance(i) {
  const port = PORTS.apis[i - 1];
  const child = start(path.join(release, 'channels-api'), [], {
    CHANNELS_API_ADDR: `127.0.0.1:${port}`,
    ENTRA_AUTHORITY: `http://127.0.0.1:${PORTS.idp}`,
    CHANNELS_DEMO: '1',
    CHANNELS_DATABASE_URL: database,
    CHANNELS_TRUST_REQUEST_ID: 'true',
    CHANNELS_SHUTDOWN_DRAIN_SECONDS: '1',
  });
  await waitFor(`http://127.0.0.1:${port}/readyz`);
  return child;
}

/** Sends `command` to HAProxy's admin socket; its answer. */
function haproxy(command) {
  return new Promise((resolve, reject) => {
    const client = net.connect(socket, () => client.end(`${command}\n`));
    let answer = '';
    client.on('data', (d) => (answer += d));
    client.on('end', () => resolve(answer));
    client.on('error', reject);
  });
}

/** Each server's status and 2xx answers, from `show stat`. */
async function servers() {
  const [header, ...rows] = (await haproxy('show stat')).trim().split('\n');
  const names = header.replace(/^# /, '').split(',');
  const at = (row, name) => row.split(',')[names.indexOf(name)];
  return Object.fromEntries(rows.filter((r) => at(r, 'svname').startsWith('api')).map((r) => [at(r, 'svname'), { status: at(r, 'status'), answers: Number(at(r, 'hrsp_2xx')) }]));
}

async function until(server, status, seconds = 15) {
  for (let i = 0; i < seconds * 20; i++) {
    if ((await servers())[server]?.status === status) return;
    await sleep(50);
  }
  throw new Error(`HAProxy never reported ${server} ${status}`);
}

/** Sets which instances HAProxy sends requests to (the others in maintenance). */
async function use(count) {
  for (let i = 1; i <= 3; i++) await haproxy(`set server api/api${i} state ${i <= count ? 'ready' : 'maint'}`);
  for (let i = 1; i <= count; i++) await until(`api${i}`, 'UP');
}

/** Sends `GET /api/me` through HAProxy for users `from`..`to` (each once, `concurrency` at a
 * time, for `seconds`; after an answer other than 200 a worker waits 50 ms, so an outage does
 * not use the users up); the status per user and a timeline of statuses per second. */
async function signIns(tokens, from, to, concurrency, seconds) {
  const outcome = new Map();
  const timeline = [];
  const started = Date.now();
  let next = from;
  const worker = async () => {
    while (next < to && Date.now() - started < seconds * 1000) {
      const n = next++;
      let status = 0;
      try {
        status = (await fetch(`http://127.0.0.1:${PORTS.haproxy}/api/me`, { headers: { authorization: `Bearer ${tokens[n]}` } })).status;
      } catch {}
      outcome.set(n, status);
      const second = Math.floor((Date.now() - started) / 1000);
      timeline[second] ??= {};
      timeline[second][status] = (timeline[second][status] ?? 0) + 1;
      if (status !== 200) await sleep(50);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // Seconds in which no answer came (every request waiting) are rows too.
  return { outcome, timeline: Array.from(timeline, (t, second) => ({ second, ...t })) };
}

/** Runs `action` after `ms` (a timer, whatever the load is doing); a promise of its end. */
const after = (ms, action) => sleep(ms).then(action);

/** The object ids of every member. */
function memberIds() {
  return new Set(execSync(`psql "${database}" -tAc "SELECT object_id FROM members"`, { encoding: 'utf8' }).trim().split('\n'));
}

/** User n's object id, as `channels-bench idp` mints it. */
const oid = (n) => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-00000000b0b0`;

async function members() {
  const count = (sql) => Number(execSync(`psql "${database}" -tAc "${sql}"`, { encoding: 'utf8' }).trim());
  return { rows: count('SELECT COUNT(*) FROM members'), distinct: count('SELECT COUNT(DISTINCT (tenant_id, object_id)) FROM members') };
}

async function main() {
  for (const name of ['CHANNELS_TEST_POSTGRES_URL', 'CHANNELS_TEST_POSTGRES_STOP', 'CHANNELS_TEST_POSTGRES_START']) {
    if (!process.env[name]) throw new Error(`${name} is not set: run ./dev scale`);
  }
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model },
    command: './dev scale',
    balancer: 'HAProxy (deploy/haproxy.cfg): round robin, health check GET /readyz every 0.5 s (out after 2 failures, back after 2 successes), GETs retried on another instance on a refused connection, an empty response or a timeout',
  };
  log(`minting ${USERS} users' tokens`);
  const tokenFile = path.join(work, 'tokens.txt');
  const idp = await startIdp(PORTS.idp, USERS, tokenFile);
  const tokens = fs.readFileSync(tokenFile, 'utf8').trim().split('\n');
  const warm = path.join(work, 'tokens-300.txt');
  fs.writeFileSync(warm, tokens.slice(0, 300).join('\n') + '\n');

  log('three instances on one PostgreSQL, and HAProxy');
  const apis = [await instance(1), await instance(2), await instance(3)];
  const balancer = start('haproxy', ['-f', path.join(root, 'deploy', 'haproxy.cfg')], {
    HAPROXY_LISTEN: `127.0.0.1:${PORTS.haproxy}`,
    HAPROXY_SOCKET: socket,
    API1: `127.0.0.1:${PORTS.apis[0]}`,
    API2: `127.0.0.1:${PORTS.apis[1]}`,
    API3: `127.0.0.1:${PORTS.apis[2]}`,
  });
  for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await sleep(50);
  await use(3);

  log('first sign-ins of the same 1000 users on the three instances at once (64 users at a time)');
  const same = [];
  for (let first = 0; first < 1000; first += 64) {
    const batch = tokens.slice(first, Math.min(first + 64, 1000)).flatMap((token) => PORTS.apis.map((port) =>
      fetch(`http://127.0.0.1:${port}/api/me`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status, () => 0)));
    same.push(...(await Promise.all(batch)));
  }
  results.same_users_on_three_instances = { requests: same.length, not_200: same.filter((s) => s !== 200).length, members: await members() };

  log('throughput through HAProxy with 1, 2 and 3 instances (300 users, warm)');
  results.throughput = [];
  for (const count of [1, 2, 3]) {
    await use(count);
    wrk(PORTS.haproxy, warm, 2, LOAD);
    const r = wrk(PORTS.haproxy, warm, 8, LOAD);
    results.throughput.push({ instances: count, rps: r.rps, p50_us: r.p50_us, p99_us: r.p99_us, errors: r.non_2xx + r.socket_errors, command: r.command });
  }

  log('first sign-ins through HAProxy for 8 s; instance 2 killed (SIGKILL) at 2 s, started again at 4 s');
  const before = await members();
  const killing = after(2000, () => apis[1].kill('SIGKILL'));
  const restarting = after(4000, async () => (apis[1] = await instance(2)));
  const kill = await signIns(tokens, 1000, 21000, 32, 8);
  await killing;
  await restarting;
  await until('api2', 'UP');
  const created = await members();
  const ids = memberIds();
  const answered = [...kill.outcome].filter(([, status]) => status === 200).map(([n]) => n);
  results.kill = {
    requests: kill.outcome.size,
    answered_200: answered.length,
    failed: kill.outcome.size - answered.length,
    acknowledged_but_missing: answered.filter((n) => !ids.has(oid(n))).length,
    members_created: created.rows - before.rows,
    timeline: kill.timeline,
    servers_after: await servers(),
  };

  log('sign-ins for 12 s; PostgreSQL stopped at 2 s, started again at 5 s');
  const shell = (command) => promisify(exec)(command, { shell: '/bin/bash' });
  const first = kill.outcome.size + 1000;
  const stopping = after(2000, () => shell(process.env.CHANNELS_TEST_POSTGRES_STOP));
  const starting = after(5000, () => shell(process.env.CHANNELS_TEST_POSTGRES_START));
  const restart = await signIns(tokens, first, USERS, 16, 12);
  await stopping;
  await starting;
  const statuses = {};
  for (const s of restart.outcome.values()) statuses[s] = (statuses[s] ?? 0) + 1;
  const last = restart.timeline.at(-1) ?? {};
  results.database_restart = {
    requests: restart.outcome.size,
    statuses,
    stopped_at_ms: 2000,
    started_at_ms: 5000,
    recovered: Object.keys(last).length > 1 && Object.keys(last).every((k) => k === 'second' || k === '200'),
    timeline: restart.timeline,
  };

  await stop(balancer);
  for (const api of apis) await stop(api);
  await stop(idp);
  fs.writeFileSync(path.join(out, 'scale.json'), JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(path.join(out, 'scale.md'), markdown(results));
  log('wrote bench/results/scale.json and scale.md');
  const problems = [];
  if (results.same_users_on_three_instances.not_200) problems.push('same users: not every request answered 200');
  if (results.same_users_on_three_instances.members.rows !== 1000) problems.push('same users: not 1000 members');
  if (results.kill.failed) problems.push(`kill: ${results.kill.failed} sign-ins failed`);
  if (results.kill.acknowledged_but_missing) problems.push(`kill: ${results.kill.acknowledged_but_missing} acknowledged members lost`);
  if (!results.database_restart.recovered) problems.push('database restart: not recovered');
  if (problems.length) throw new Error(problems.join('; '));
}

function markdown(r) {
  const ms = (us) => (us / 1000).toFixed(2);
  const kill = r.kill;
  const db = r.database_restart;
  return [
    '# Scale-out: three instances, one PostgreSQL, HAProxy',
    '',
    `Measured ${r.date} with \`${r.command}\` on ${r.machine.cpus} × ${r.machine.cpu}, everything on loopback (the instances, PostgreSQL, HAProxy, the identity provider and the load share the 2 cores). ${r.balancer}.`,
    '',
    '## The same users\' first sign-ins on every instance at once',
    '',
    `${r.same_users_on_three_instances.requests} requests (1000 users, each sent to the three instances directly at the same time): ` +
      `${r.same_users_on_three_instances.not_200} not answered 200; ${r.same_users_on_three_instances.members.rows} members, ` +
      `${r.same_users_on_three_instances.members.distinct} distinct: each created once.`,
    '',
    '## Throughput through the balancer (300 users, warm, 8 s)',
    '',
    '| instances | requests/s | p50 ms | p99 ms | errors |',
    '|---:|---:|---:|---:|---:|',
    ...r.throughput.map((t) => `| ${t.instances} | ${t.rps.toFixed(0)} | ${ms(t.p50_us)} | ${ms(t.p99_us)} | ${t.errors} |`),
    '',
    'Flat is the honest answer on two cores: each instance already uses both, and the balancer and the load generator share them.',
    '',
    '## One instance killed (SIGKILL) mid-run, then restarted',
    '',
    `${kill.requests} first sign-ins of new users through HAProxy in 8 s, 32 at a time; instance 2 killed at 2 s and started again at 4 s. ` +
      `**${kill.answered_200} answered 200, ${kill.failed} failed**; ${kill.members_created} members created, ${kill.acknowledged_but_missing} of the acknowledged ones missing ` +
      '(a member is keyed by `(tid, oid)` under a unique index: a second one cannot exist). ' +
      `After the restart HAProxy reported ${Object.entries(kill.servers_after).map(([name, s]) => `${name} ${s.status} (${s.answers} answers)`).join(', ')}.`,
    '',
    '| second | 200 | other |',
    '|---:|---:|---|',
    ...kill.timeline.map((t) => `| ${t.second} | ${t[200] ?? 0} | ${Object.entries(t).filter(([k]) => k !== 'second' && k !== '200').map(([k, v]) => `${k}: ${v}`).join(', ')} |`),
    '',
    '## PostgreSQL stopped and started again',
    '',
    `${db.requests} sign-ins in 12 s, 16 at a time; PostgreSQL stopped at 2 s and started again at 5 s (the stop and start take their own time: the timeline shows when answers changed). ` +
      `Statuses: ${Object.entries(db.statuses).map(([k, v]) => `${k}: ${v}`).join(', ')} (0: no answer; 503 from an instance whose member store failed, or from HAProxy once every \`/readyz\` said so). ` +
      `${db.recovered ? 'In the last second every request was answered 200 again, and no instance was restarted' : '**In the last second not every request was answered 200**'}.`,
    '',
    '| second | 200 | other |',
    '|---:|---:|---|',
    ...db.timeline.map((t) => `| ${t.second} | ${t[200] ?? 0} | ${Object.entries(t).filter(([k]) => k !== 'second' && k !== '200').map(([k, v]) => `${k}: ${v}`).join(', ')} |`),
    '',
    'SCIM writes seen by the other instances at once: not measured (SCIM provisioning does not exist yet).',
    '',
  ].join('\n');
}

main().catch((error) => {
  console.error('scale:', error);
  process.exitCode = 1;
}).finally(killAll);
