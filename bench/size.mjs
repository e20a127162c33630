// The SPA's size budget (`./dev test`, after the release build): everything the page downloads
// from dist/ (wasm, JS glue, CSS, index.html), each file gzip -9 as `./dev bench` counts it,
// must stay within 5 % of the budget recorded in bench/size-budget.json. Growth past it is a
// decision: raise the budget in the same commit, and say why.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');
const budgetFile = path.join(root, 'bench', 'size-budget.json');
const { bytes: budget } = JSON.parse(fs.readFileSync(budgetFile, 'utf8'));
const files = fs.readdirSync(dist).filter((name) => /\.(wasm|js|css|html)$/.test(name));
const total = files.reduce((sum, name) => sum + zlib.gzipSync(fs.readFileSync(path.join(dist, name)), { level: 9 }).length, 0);
const limit = Math.floor(budget * 1.05);
const kb = (n) => (n / 1000).toFixed(1);
const line = `size: the SPA is ${kb(total)} KB gzip -9 (${files.length} files); budget ${kb(budget)} KB, limit ${kb(limit)} KB (+5 %)`;
if (total > limit) {
  console.error(`${line}: over the limit by ${kb(total - limit)} KB. If the growth is meant, raise "bytes" in bench/size-budget.json and say why in the commit.`);
  process.exit(1);
}
console.log(line);
