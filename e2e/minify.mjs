// Trunk's post_build hook (Trunk.toml): in a release build, shortens what Trunk's own minifiers
// leave whole, then names both files after their new bytes and moves index.html's references
// and subresource integrity pins (SHA-384) to them, so a browser loads nothing else.
//
// - The names the wasm and its JS glue share: wasm-bindgen names each import after its JS
//   function and a hash (`__wbg_setAttribute_f75317b2b5cabfb4`) and each closure export after
//   its Rust types (up to 190 characters), and the glue spells each again. binaryen's
//   `--minify-imports-and-exports-and-modules` (the pass Emscripten runs on its release builds)
//   renames them to one or two letters and prints what it renamed; the glue follows. Neither
//   wasm-bindgen nor Trunk offers this. The same run drops the wasm's `producers` and
//   `target_features` sections, which browsers do not read.
// - The JS glue: Trunk's JS minifier (minify-js) cannot parse it and leaves it whole with a
//   warning; terser can.
//
// The new names come from the files' own bytes, not Trunk's: the output also depends on binaryen
// and terser, and a new version of either must not reuse a name browsers cache for a year.
// It lives in e2e/ for the npm packages there (binaryen, terser).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { minify } from "terser";

const WASM_OPT = fileURLToPath(new URL("node_modules/.bin/wasm-opt", import.meta.url));

const digest = (bytes) => createHash("sha384").update(bytes);
const integrity = (bytes) => `sha384-${digest(bytes).digest("base64")}`;
const quoted = (name) => JSON.stringify(name);
const literal = (name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** `text` with the one match of `pattern` replaced; anything else is not the glue expected. */
function replaceOne(text, pattern, replacement, what) {
  const found = text.match(new RegExp(pattern, "g"))?.length ?? 0;
  if (found !== 1) throw new Error(`expected the JS glue to name ${what} once; found it ${found} times`);
  return text.replace(new RegExp(pattern), () => replacement);
}

/** Shortens the wasm's import, export and module names in place; returns a function that
 * rewrites the JS glue to match. */
async function minifyWasmNames(path) {
  const { stdout } = await promisify(execFile)(
    WASM_OPT,
    ["--minify-imports-and-exports-and-modules", "--strip-producers", "--strip-target-features", "--detect-features", path, "-o", path],
    { maxBuffer: 1 << 24 },
  );
  const { imports, exports } = JSON.parse(stdout);
  const minified = new WebAssembly.Module(await readFile(path));
  // binaryen does not print the new module name: the wasm says it.
  const [minifiedModule, ...more] = new Set(WebAssembly.Module.imports(minified).map((i) => i.module));
  const [module, ...others] = new Set(imports.map(([module]) => module));
  if (more.length || others.length) throw new Error(`expected the wasm to import from one module; found more`);
  const exported = new Set(WebAssembly.Module.exports(minified).map((e) => e.name));
  return (glue) => {
    // The import object: one module, each function under its name as a key.
    glue = replaceOne(glue, `${literal(quoted(module))}(?=: import0\\b)`, quoted(minifiedModule), `the import module ${module}`);
    for (const [, name, short] of imports) {
      glue = replaceOne(glue, `(?<=\\n\\s+)${literal(name)}(?=: function\\()`, quoted(short), `the import ${name}`);
    }
    // The exports: properties of `wasm`, the instance's exports (some are not read by the glue).
    for (const [name, short] of exports) {
      glue = glue.replace(new RegExp(`\\bwasm\\.${literal(name)}(?![\\w$])`, "g"), () => `wasm[${quoted(short)}]`);
    }
    // Whatever else the glue reads from `wasm` was not renamed: the app would fail there.
    for (const [, dotted, bracketed] of glue.matchAll(/\bwasm(?:\.([\w$]+)|\[("[^"]+")\])/g)) {
      const name = dotted ?? JSON.parse(bracketed);
      if (!exported.has(name)) throw new Error(`expected the JS glue to read only the wasm's exports; found wasm.${name}`);
    }
    return glue;
  };
}

/** Writes `bytes` as `name` with Trunk's hash (`-<up to 16 hex digits>`) replaced by that of `bytes`. */
async function rename(staging, name, bytes) {
  const parts = name.match(/^(.+)-[0-9a-f]{1,16}(_bg\.wasm|\.js)$/);
  if (!parts) throw new Error(`expected ${name} to be named by Trunk, ending in -<up to 16 hex digits>`);
  const renamed = `${parts[1]}-${digest(bytes).digest("hex").slice(0, 16)}${parts[2]}`;
  await rm(join(staging, name));
  await writeFile(join(staging, renamed), bytes);
  return renamed;
}

if (process.env.TRUNK_PROFILE === "release") {
  const staging = process.env.TRUNK_STAGING_DIR;
  const htmlPath = join(staging, "index.html");
  let html = await readFile(htmlPath, "utf8");
  const files = await readdir(staging);
  const [wasmName, ...moreWasm] = files.filter((name) => name.endsWith("_bg.wasm"));
  const [glueName, ...moreGlue] = files.filter((name) => name.endsWith(".js"));
  if (!wasmName || !glueName || moreWasm.length || moreGlue.length) {
    throw new Error(`expected one wasm and one JS glue in ${staging}; found ${files.join(", ")}`);
  }
  const moveTo = async (name, before, after) => {
    if (!html.includes(integrity(before))) {
      throw new Error(`expected index.html to pin ${name} by its hash ${integrity(before)}; found no such pin`);
    }
    const renamed = await rename(staging, name, after);
    html = html.replaceAll(integrity(before), integrity(after)).replaceAll(`/${name}`, `/${renamed}`);
    console.log(`minified ${name}: ${before.length} → ${after.length} bytes, as ${renamed}`);
  };

  const wasmPath = join(staging, wasmName);
  const wasmBefore = await readFile(wasmPath);
  const followRenames = await minifyWasmNames(wasmPath);
  await moveTo(wasmName, wasmBefore, await readFile(wasmPath));

  const glue = await readFile(join(staging, glueName), "utf8");
  const { code } = await minify(followRenames(glue), { module: true, compress: { passes: 2 }, mangle: true });
  await moveTo(glueName, glue, code);
  await writeFile(htmlPath, html);
}
