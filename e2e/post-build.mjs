// Trunk's post_build hook (Trunk.toml), in a release build:
// 1. splits the wasm at its split points (Leptos' `wasm_split`), when it was built with them
//    (`--cfg wasm_split`, ./dev's release flags): Trunk cannot (trunk-rs/trunk#1022), so this
//    hook does what cargo-leptos does with the same tool (wasm_split_cli_support): the raw wasm
//    Trunk's cargo build left is split, the main part goes through wasm-bindgen and wasm-opt as
//    Trunk ran them and replaces Trunk's wasm and glue, the split's loader inside the glue.
// 2. minifies wasm-bindgen's JS glue, which Trunk's own JS minifier cannot parse and leaves
//    whole ("WARN Failed to minify JS"), with terser. Nothing inside the glue or the wasm is
//    renamed.
// 3. names the glue, the wasm and the chunks after their own bytes' hash, as Trunk names its
//    files, so channels-api serves them as immutable (crates/api/src/spa.rs), and moves
//    index.html's names and subresource integrity pins (SHA-384) to the files served.
// 4. writes each page file's brotli (quality 11) and gzip (level 9) copy beside it (`x.wasm.br`,
//    `x.wasm.gz`), which channels-api serves to a browser that accepts them (src/spa.rs):
//    compressed once here, at the best ratio, instead of per request.
// It lives in e2e/ for the npm packages there.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { minify } from "terser";

const integrity = (bytes) => `sha384-${createHash("sha384").update(bytes).digest("base64")}`;
// Trunk's own naming: 16 hex digits of a content hash after the name.
const hashed = (name, bytes, extension) =>
  `${name}-${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}${extension}`;
const minified = async (js) => (await minify(js, { module: true, compress: { passes: 2 }, mangle: true })).code;
// The module wasm-bindgen's glue imports a split point's loader from, before the split.
const SPLIT_PLACEHOLDER = "__wasm_split_placeholder__";

const run = (command, args) => {
  try {
    // What the tools print when all is well (wasm-opt warns of the split's name sections) is
    // shown only with a failure.
    execFileSync(command, args, { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const missing = error.code === "ENOENT" ? ` (${command} is not installed: ./dev installs it)` : "";
    throw new Error(`expected ${command} ${args.join(" ")} to succeed; it failed${missing}: ${error.stderr ?? error.message}`);
  }
};

/** The glue with the split's loader inside: the two import each other (the glue the loaders of
 * the chunks, the loader the glue's `initSync`), and one module is one request fewer on the
 * first load, the one index.html preloads. */
function withLoader(glue, loader, stem) {
  const importOfGlue = `import { initSync } from "./${stem}.js";`;
  const names = [...loader.matchAll(/^export const (\w+)/gm)].map(([, name]) => name);
  const importsOfLoader = /^import \* as (import\d+) from "\.\/__wasm_split\.js";?\n/gm;
  const bound = [...glue.matchAll(importsOfLoader)].map(([, binding]) => binding);
  if (!loader.includes(importOfGlue) || !names.length || !bound.length) {
    throw new Error(`expected the split's loader to import ${stem}.js and export its loaders, and the glue to import the loader; found ${names.length} loaders, ${bound.length} imports`);
  }
  const body = loader.replace(importOfGlue, "").replace(/^export const /gm, "const ");
  return `${glue.replace(importsOfLoader, "")}
const __wasm_split = (() => {
${body}
return { ${names.join(", ")} };
})();
const ${bound.map((binding) => `${binding} = __wasm_split`).join(", ")};
`;
}

/** Splits the raw wasm of Trunk's cargo build; returns the glue and the wasm that replace
 * Trunk's (`stem.js`, `stem_bg.wasm`) and writes the chunks into `staging`. */
async function split(staging, stem) {
  const targetDir = process.env.CARGO_TARGET_DIR ?? join(process.env.TRUNK_SOURCE_DIR, "target");
  const raw = join(targetDir, "wasm32-unknown-unknown", "wasm-release", "channels-spa.wasm");
  const work = await mkdtemp(join(tmpdir(), "wasm-split-"));
  try {
    run("wasm-split-cli", [raw, work, "--out-name", stem]);
    run("wasm-bindgen", ["--target", "web", "--no-typescript", "--keep-lld-exports", "--out-name", stem,
      "--out-dir", join(work, "bindgen"), join(work, `${stem}.wasm`)]);
    const optimized = async (wasm) => {
      run("wasm-opt", ["-Oz", "--low-memory-unused", "--converge", wasm, "-o", `${wasm}.opt`]);
      return readFile(`${wasm}.opt`);
    };
    let loader = await readFile(join(work, "__wasm_split.js"), "utf8");
    for (const name of await readdir(work)) {
      if (!name.endsWith(".wasm") || name === `${stem}.wasm`) continue;
      const bytes = await optimized(join(work, name));
      const chunk = hashed(basename(name, ".wasm"), bytes, ".wasm");
      if (!loader.includes(`"./${name}"`)) throw new Error(`expected the loader to fetch ./${name}; it does not`);
      loader = loader.replaceAll(`"./${name}"`, `"./${chunk}"`);
      await writeFile(join(staging, chunk), bytes);
    }
    const glue = await readFile(join(work, "bindgen", `${stem}.js`), "utf8");
    return { glue: withLoader(glue, loader, stem), wasm: await optimized(join(work, "bindgen", `${stem}_bg.wasm`)) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.env.TRUNK_PROFILE === "release") {
  const staging = process.env.TRUNK_STAGING_DIR;
  const htmlPath = join(staging, "index.html");
  let html = await readFile(htmlPath, "utf8");
  const files = await readdir(staging);
  const [glueName, ...moreGlue] = files.filter((name) => name.endsWith(".js"));
  if (!glueName || moreGlue.length) throw new Error(`expected one JS glue in ${staging}; found ${files.join(", ")}`);
  const stem = basename(glueName, ".js");
  const gluePath = join(staging, glueName);
  const wasmPath = join(staging, `${stem}_bg.wasm`);
  let glue = await readFile(gluePath, "utf8");
  for (const pinned of [glue, await readFile(wasmPath)]) {
    if (!html.includes(integrity(pinned))) {
      throw new Error(`expected index.html to pin ${glueName} and its wasm by their hashes; found no pin ${integrity(pinned)}`);
    }
  }
  if (glue.includes(SPLIT_PLACEHOLDER)) {
    const { glue: splitGlue, wasm } = await split(staging, stem);
    html = html.replaceAll(integrity(await readFile(wasmPath)), integrity(wasm));
    await writeFile(wasmPath, wasm);
    html = html.replaceAll(integrity(glue), integrity(splitGlue));
    glue = splitGlue;
    console.log(`split ${stem}_bg.wasm at its split points: ${wasm.length} bytes load first`);
  }
  const code = await minified(glue);
  html = html.replaceAll(integrity(glue), integrity(code));
  console.log(`minified ${glueName}: ${glue.length} → ${code.length} bytes`);
  // Trunk named the glue and the wasm after what it built; these bytes are this hook's, and
  // channels-api serves hashed names as immutable: each is named again after its own bytes, so
  // a change here (a tool's version, this script) never hides behind a name browsers cached.
  const prefix = stem.replace(/-[0-9a-f]+$/, "");
  const wasm = await readFile(wasmPath);
  const [newGlue, newWasm] = [hashed(prefix, code, ".js"), hashed(prefix, wasm, "_bg.wasm")];
  for (const [old, now] of [[glueName, newGlue], [`${stem}_bg.wasm`, newWasm]]) {
    if (!html.includes(`/${old}`)) throw new Error(`expected index.html to name /${old}; it does not`);
    html = html.replaceAll(`/${old}`, `/${now}`);
  }
  await rm(gluePath);
  await rm(wasmPath);
  await writeFile(join(staging, newGlue), code);
  await writeFile(join(staging, newWasm), wasm);
  await writeFile(htmlPath, html);

  for (const name of await readdir(staging)) {
    if (!/\.(wasm|js|css|html)$/.test(name)) continue;
    const bytes = await readFile(join(staging, name));
    const brotli = brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    });
    await writeFile(join(staging, `${name}.br`), brotli);
    await writeFile(join(staging, `${name}.gz`), gzipSync(bytes, { level: 9 }));
    console.log(`compressed ${name}: ${bytes.length} → ${brotli.length} bytes (brotli)`);
  }
}
