// Trunk's post_build hook (Trunk.toml): minifies wasm-bindgen's JS glue in a release build.
// Trunk's own JS minifier (minify-js) cannot parse that glue and leaves it whole, with a warning;
// terser can. Trunk has already pinned the file in index.html by its SHA-384 (subresource
// integrity), so the pin is moved to the minified bytes: a browser loads nothing else.
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { minify } from "terser";

if (process.env.TRUNK_PROFILE === "release") {
  const staging = process.env.TRUNK_STAGING_DIR;
  const htmlPath = join(staging, "index.html");
  let html = await readFile(htmlPath, "utf8");
  const integrity = (text) => `sha384-${createHash("sha384").update(text).digest("base64")}`;
  for (const name of (await readdir(staging)).filter((name) => name.endsWith(".js"))) {
    const path = join(staging, name);
    const source = await readFile(path, "utf8");
    const pinned = integrity(source);
    if (!html.includes(pinned)) {
      throw new Error(`expected index.html to pin ${name} by its hash ${pinned}; found no such pin`);
    }
    const { code } = await minify(source, { module: true, compress: { passes: 2 }, mangle: true });
    await writeFile(path, code);
    html = html.replace(pinned, integrity(code));
    console.log(`minified ${name}: ${source.length} → ${code.length} bytes`);
  }
  await writeFile(htmlPath, html);
}
