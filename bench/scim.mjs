// `./dev scim-bench`: writes bench/results/scim.md from the two runs of `channels-bench scim`
// (SQLite, then PostgreSQL) that ./dev made, given as JSON files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [sqlite, postgres] = process.argv.slice(2).map((file) => JSON.parse(fs.readFileSync(file, 'utf8')));
const out = path.join(path.dirname(new URL(import.meta.url).pathname), 'results', 'scim.md');
const cpus = os.cpus();
const row = (r) =>
  `| ${r.label} | ${r.users} | ${r.users_seconds.toFixed(0)} s | ${r.user_ms_p50} / ${r.user_ms_p99} | ` +
  `${r.patches} × ${r.batch}: ${r.patch_ms_first} / ${r.patch_ms_last} / ${r.patch_ms_max} | ${r.rename_ms} | ` +
  `${r.me_requests} | ${r.me_ms_p50} / ${r.me_ms_p99} / ${r.me_ms_max} | ${r.me_failures} |`;
fs.writeFileSync(
  out,
  `# SCIM provisioning at a tenant's size

Measured ${new Date().toISOString()} with \`./dev scim-bench\` on ${cpus.length} × ${cpus[0].model.trim()}, everything
on loopback (the release API, the database, the emulator, the provisioning client and the sign-in load
share the cores). The client provisions as Entra's service does: each user looked up by \`userName\`, then
created (${sqlite.users} users, 4 requests in flight); then one group created empty, filled by PATCHes of
${sqlite.batch} member additions each (the cap, \`MAX_MEMBERS\`) until it holds every user, then renamed.
Meanwhile 4 loops call \`GET /api/me\` (5 ms apart) with tokens of 200 provisioned users whose tokens carry
no groups claim, so every answer reads the memberships provisioning writes.

| database | users | users took | user lookup + create, ms p50 / p99 | group PATCHes, ms first / last / max | rename of the full group, ms | GET /api/me during it all | /api/me ms p50 / p99 / max | /api/me not 200 |
|---|---:|---:|---:|---|---:|---:|---:|---:|
${row(sqlite)}
${row(postgres)}

A PATCH costs what it names: the last batch, added to a group that already holds
${sqlite.users - sqlite.batch} members, takes what the first one took, and renaming the full group touches
no membership. Before this change (issue #30) the same 5 000-member PATCH took 0.8 s on an empty group and
8.8 s once it held 30 000, and \`GET /api/me\` answered 503 meanwhile.
`,
);
console.log(`wrote ${out}`);
