// The release SPA's files in dist/, as a browser fetches them: the first load (index.html and
// what it names: the stylesheet, the JS glue, the wasm) and the wasm chunks a tab fetches once
// Entra has answered (the release build splits the wasm at its split points,
// e2e/post-build.mjs). bench/size.mjs and bench/run.mjs count them the same way.
import fs from 'node:fs';
import path from 'node:path';

export function spaFiles(dist) {
  const page = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  const files = fs.readdirSync(dist).filter((name) => /\.(wasm|js|css|html)$/.test(name));
  const firstLoad = files.filter((name) => name === 'index.html' || page.includes(`/${name}`));
  return { firstLoad, later: files.filter((name) => !firstLoad.includes(name)) };
}
