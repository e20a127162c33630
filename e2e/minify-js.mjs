// Trunk's post_build hook (Trunk.toml): minifies wasm-bindgen's JS glue in a release build.
// Trunk's own JS minifier (minify-js) cannot parse that glue and leaves it whole, with a warning;
// terser can. The minified file is renamed after a hash of its own bytes (Trunk named it after
// the wasm, but terser's output also depends on terser: a new terser must not reuse a name that
// browsers cache for a year), and index.html follows: its references, and its subresource
// integrity pin (SHA-384), move to the minified file, so a browser loads nothing else.
// It lives in e2e/ for the npm packages there (terser, like binaryen's wasm-opt).
import { createHash } from "node:crypto";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { minify } from "terser";

if (process.env.TRUNK_PROFILE === "release") {
  const staging = process.env.TRUNK_STAGING_DIR;
  const htmlPath = join(staging, "index.html");
  let html = await readFile(htmlPath, "utf8");
  const digest = (text) => createHash("sha384").update(text);
  for (const name of (await readdir(staging)).filter((name) => name.endsWith(".js"))) {
    const source = await readFile(join(staging, name), "utf8");
    const pinned = `sha384-${digest(source).digest("base64")}`;
    if (!html.includes(pinned)) {
      throw new Error(`expected index.html to pin ${name} by its hash ${pinned}; found no such pin`);
    }
    const { code } = await minify(source, { module: true, compress: { passes: 2 }, mangle: true });
    const renamed = `${name.replace(/-[0-9a-f]+\.js$/, "")}-${digest(code).digest("hex").slice(0, 16)}.js`;
    await rm(join(staging, name));
    await writeFile(join(staging, renamed), code);
    html = html.replaceAll(pinned, `sha384-${digest(code).digest("base64")}`).replaceAll(`/${name}`, `/${renamed}`);
    console.log(`minified ${name}: ${source.length} → ${code.length} bytes, as ${renamed}`);
  }
  await writeFile(htmlPath, html);
}
