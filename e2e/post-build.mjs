// Trunk's post_build hook (Trunk.toml), in a release build:
// 1. minifies wasm-bindgen's JS glue, which Trunk's own JS minifier cannot parse and leaves whole
//    ("WARN Failed to minify JS"), with terser, and moves index.html's subresource integrity pin
//    (SHA-384) to the minified bytes. Nothing inside the glue or the wasm is renamed. The glue
//    keeps Trunk's content-hashed name: the minified file follows from the hashed one and the
//    locked terser version.
// 2. writes each page file's brotli (quality 11) and gzip (level 9) copy beside it (`x.wasm.br`,
//    `x.wasm.gz`), which channels-api serves to a browser that accepts them (src/spa.rs):
//    compressed once here, at the best ratio, instead of per request.
// It lives in e2e/ for the npm packages there.
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { minify } from "terser";

const integrity = (bytes) => `sha384-${createHash("sha384").update(bytes).digest("base64")}`;

if (process.env.TRUNK_PROFILE === "release") {
  const staging = process.env.TRUNK_STAGING_DIR;
  const htmlPath = join(staging, "index.html");
  const html = await readFile(htmlPath, "utf8");
  const files = await readdir(staging);
  const [glueName, ...moreGlue] = files.filter((name) => name.endsWith(".js"));
  if (!glueName || moreGlue.length) throw new Error(`expected one JS glue in ${staging}; found ${files.join(", ")}`);
  const gluePath = join(staging, glueName);
  const glue = await readFile(gluePath, "utf8");
  if (!html.includes(integrity(glue))) {
    throw new Error(`expected index.html to pin ${glueName} by its hash ${integrity(glue)}; found no such pin`);
  }
  const { code } = await minify(glue, { module: true, compress: { passes: 2 }, mangle: true });
  await writeFile(gluePath, code);
  await writeFile(htmlPath, html.replaceAll(integrity(glue), integrity(code)));
  console.log(`minified ${glueName}: ${glue.length} → ${code.length} bytes`);

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
