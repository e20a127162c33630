// What the benchmark scripts share (bench/run.mjs, bench/scale.mjs): the processes they start,
// stopped whatever happens, and the load generator. Everything listens on loopback.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const release = path.join(root, 'target', 'release');

const children = new Set();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
export const killAll = () => children.forEach((c) => c.kill('SIGKILL'));
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Starts a process; its output goes to ours, unless `readStdout` (then read it, or it blocks). */
export function start(command, args, env = {}, readStdout = false) {
  const stdio = ['ignore', readStdout ? 'pipe' : 'inherit', 'inherit'];
  const child = spawn(command, args, { env: { ...process.env, RUST_LOG: 'warn', ...env }, stdio });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
}

export async function waitFor(url, seconds = 60) {
  for (let i = 0; i < seconds * 10; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await sleep(100);
  }
  throw new Error(`${url} did not answer in ${seconds} s`);
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

/** `GET /api/me` on `port` for `seconds` with wrk, a different token of the file `tokens` on
 * each request (bench/wrk/tokens.lua); its figures. */
export function wrk(port, tokens, seconds, { threads, connections }) {
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--latency',
    '-s', path.join(root, 'bench', 'wrk', 'tokens.lua'), `http://127.0.0.1:${port}/api/me`, '--', tokens, String(threads)];
  const text = execFileSync('wrk', args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = text.trim().split('\n').at(-1);
  const r = JSON.parse(line);
  return { ...r, rps: r.requests / (r.duration_us / 1e6), command: `wrk ${args.join(' ')}`.replaceAll(root + '/', '') };
}

/** The demo tenant's identity provider (`channels-bench idp`) on `port`, once it has written
 * `count` tokens of distinct users to `file` (line n: user n, object id `<n:08x>-0000-4000-8000-00000000b0b0`). */
export async function startIdp(port, count, file) {
  const idp = start(path.join(release, 'channels-bench'), ['idp', `127.0.0.1:${port}`, String(count), file], {}, true);
  await new Promise((resolve, reject) => {
    idp.stdout.on('data', (d) => String(d).includes('ready') && resolve());
    idp.on('exit', () => reject(new Error('channels-bench idp stopped')));
  });
  return idp;
}
