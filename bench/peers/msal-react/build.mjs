// Bundles the peer for production (`node build.mjs`): dist/app.js, minified, React in its
// production build. The page around it is index.html, whose settings the bench fills in.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('app.jsx', import.meta.url).pathname],
  outfile: new URL('dist/app.js', import.meta.url).pathname,
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
});
