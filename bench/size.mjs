// The SPA's size budget (`./dev test`, after the release build): what the page downloads from
// dist/ before the user can sign in (index.html, the stylesheet, the JS glue, the wasm), and the
// whole app with the chunks fetched once Entra has answered, each file gzip -9 as `./dev bench`
// counts it, must each stay within 5 % of the budget recorded in bench/size-budget.json. Growth
// past it is a decision: raise the budget in the same commit, and say why.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { spaFiles } from './spa-files.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');
const budget = JSON.parse(fs.readFileSync(path.join(root, 'bench', 'size-budget.json'), 'utf8'));
const gzip9 = (names) => names.reduce((sum, name) => sum + zlib.gzipSync(fs.readFileSync(path.join(dist, name)), { level: 9 }).length, 0);
const { firstLoad, later } = spaFiles(dist);
const kb = (n) => (n / 1000).toFixed(1);
let over = false;
for (const [what, key, names] of [
  ['the first load', 'first_load_bytes', firstLoad],
  ['the whole SPA', 'bytes', [...firstLoad, ...later]],
]) {
  const total = gzip9(names);
  const limit = Math.floor(budget[key] * 1.05);
  const line = `size: ${what} is ${kb(total)} KB gzip -9 (${names.length} files); budget ${kb(budget[key])} KB, limit ${kb(limit)} KB (+5 %)`;
  if (total > limit) {
    console.error(`${line}: over the limit by ${kb(total - limit)} KB. If the growth is meant, raise "${key}" in bench/size-budget.json and say why in the commit.`);
    over = true;
  } else {
    console.log(line);
  }
}
if (over) process.exit(1);
