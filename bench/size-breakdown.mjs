// What the SPA's release wasm is made of: `twiggy top` of the optimised wasm with its names
// kept (`./dev size` builds it), summed by crate, with the largest functions and whether the
// crates the `leptos` facade could bring are linked. Writes bench/results/size-breakdown.md.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import zlib from 'node:zlib';

const wasm = process.argv[2];
const rows = execFileSync('twiggy', ['top', '-n', '1000000', '--format', 'csv', wasm], { encoding: 'utf8', maxBuffer: 1 << 28 })
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    // Name,ShallowSize,ShallowSizePercent,RetainedSize,RetainedSizePercent: a name with a
    // comma or a quote is quoted.
    const match = line.match(/^(?:"((?:[^"]|"")*)"|([^,]*)),(\d+),([\d.]+),/);
    if (!match) return null;
    return { name: (match[1] ?? match[2]).replaceAll('""', '"'), size: Number(match[3]) };
  })
  .filter(Boolean)
  // The names section (kept only for this reading) and the other custom sections are not code.
  .filter((row) => !/subsection"?$|^"?custom section/.test(row.name));

// The crate of a function: the first path of its name (`<A as B>::f` is A's); v0 mangling's
// `crate[hash]` is read as `crate`.
function crateOf(name) {
  if (/^(data segment|elem\[|table\[|type\[|import |export |global\[|memory\[)/.test(name)) return '(data, tables, imports, exports)';
  // `<_ as tachys::view::IntoAny>::…` and `<str as core::fmt::Debug>::…`: the trait's crate.
  const untyped = name.match(/^<(?:_|str|\[[^\]]*\]|[iu](?:8|16|32|64|128|size)|f32|f64|bool|char) as ([A-Za-z_][A-Za-z0-9_]*)(\[[0-9a-f]+\])?::/);
  if (untyped) return untyped[1];
  if (/^<(str|\[[^\]]*\])>::/.test(name)) return 'core';
  const trimmed = name.replace(/^<+/, '').replace(/^(dyn |&mut |&|\*const |\*mut )/, '');
  const path = trimmed.match(/^([A-Za-z_][A-Za-z0-9_]*)(\[[0-9a-f]+\])?::/);
  if (path) return path[1];
  if (/^(wasm_bindgen|__wbg|__wbindgen)/.test(name)) return 'wasm_bindgen';
  return '(unnamed or other)';
}

const total = rows.reduce((sum, row) => sum + row.size, 0);
const byCrate = new Map();
for (const row of rows) byCrate.set(crateOf(row.name), (byCrate.get(crateOf(row.name)) ?? 0) + row.size);
const crates = [...byCrate].sort((a, b) => b[1] - a[1]);
const functions = rows.filter((row) => crateOf(row.name) !== '(data, tables, imports, exports)').sort((a, b) => b.size - a.size);
const gzip = zlib.gzipSync(fs.readFileSync(wasm), { level: 9 }).length;
const pct = (n) => ((100 * n) / total).toFixed(1);
const kb = (n) => (n / 1000).toFixed(1);
const watched = ['server_fn', 'url', 'idna', 'regex', 'regex_automata', 'toml', 'toml_edit', 'chrono', 'serde_json', 'jwt_compact', 'tachys', 'reactive_graph', 'leptos'];

let out = `# What the SPA's release wasm is made of\n\n`;
out += `\`./dev size\`, ${new Date().toISOString().slice(0, 10)}: the release build's wasm (the pinned nightly, \`-Zbuild-std\`, \`panic = "immediate-abort"\`, profile \`wasm-release\`), after wasm-bindgen and \`wasm-opt -Oz --low-memory-unused --converge\` as Trunk runs them, with its names kept for twiggy (\`-g\`). Sizes are uncompressed bytes of that file: ${kb(total)} KB in all (${kb(gzip)} KB gzip -9 with its names). The shipped file has no names section; shares, not totals, carry over.\n\n`;
out += `## By crate\n\n| crate | KB | share |\n|---|---:|---:|\n`;
for (const [crate, size] of crates.slice(0, 30)) out += `| \`${crate}\` | ${kb(size)} | ${pct(size)} % |\n`;
out += `\n## Crates the \`leptos\` facade could bring\n\n| crate | linked | KB |\n|---|---|---:|\n`;
for (const crate of watched) {
  const size = byCrate.get(crate) ?? 0;
  out += `| \`${crate}\` | ${size > 0 ? 'yes' : 'no'} | ${kb(size)} |\n`;
}
out += `\n## The 40 largest functions\n\n| function | bytes | share |\n|---|---:|---:|\n`;
for (const row of functions.slice(0, 40)) {
  const bare = row.name.replace(/\[[0-9a-f]{16}\]/g, '');
  const name = bare.length > 140 ? `${bare.slice(0, 137)}…` : bare;
  out += `| \`${name.replaceAll('|', '\\|').replaceAll('`', "'")}\` | ${row.size} | ${pct(row.size)} % |\n`;
}
fs.mkdirSync('bench/results', { recursive: true });
fs.writeFileSync('bench/results/size-breakdown.md', out);
console.log(out.split('\n## The 40')[0]);
