// Writes bench/results/mutants.md from cargo-mutants' outcomes (`./dev mutants`): mutants tried,
// caught, missed, timed out and unviable, per file, and each missed mutant by name.
// Usage: node bench/mutants.mjs <command that ran> <outcomes.json> [<outcomes.json> ...]
// A source file tested by several of the runs given is reported from the last of them (a file
// run again after new tests), with that run's time.
import { readFileSync, writeFileSync } from 'node:fs';

const [command, ...files] = process.argv.slice(2);
const kinds = { CaughtMutant: 'caught', MissedMutant: 'missed', Timeout: 'timeout', Unviable: 'unviable' };
const perFile = new Map();
let started = null;
for (const file of files) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  started ??= report.start_time;
  const mine = new Map();
  const baseline = report.outcomes.find((outcome) => outcome.scenario === 'Baseline');
  if (baseline && baseline.summary !== 'Success') throw new Error(`${file}: the unmutated baseline failed`);
  if (!report.outcomes.some((outcome) => outcome.scenario.Mutant)) throw new Error(`${file}: no mutant was tested`);
  for (const outcome of report.outcomes) {
    const mutant = outcome.scenario.Mutant;
    if (!mutant) continue; // the unmutated baseline
    const kind = kinds[outcome.summary] ?? outcome.summary;
    const row = mine.get(mutant.file) ?? { caught: 0, missed: 0, timeout: 0, unviable: 0, run: report.start_time, names: [] };
    row[kind] = (row[kind] ?? 0) + 1;
    if (kind === 'missed' || kind === 'timeout') row.names.push(`${kind}: ${mutant.name}`);
    mine.set(mutant.file, row);
  }
  for (const [source, row] of mine) perFile.set(source, row);
}
const missed = [...perFile.values()].flatMap((row) => row.names);
const runs = new Set([...perFile.values()].map((row) => row.run));
const total = { caught: 0, missed: 0, timeout: 0, unviable: 0 };
const rows = [...perFile.entries()].sort().map(([file, row]) => {
  for (const key of Object.keys(total)) total[key] += row[key];
  const tried = row.caught + row.missed + row.timeout + row.unviable;
  const run = runs.size > 1 ? ` | ${row.run.slice(0, 16)}Z` : '';
  return `| \`${file}\` | ${tried} | ${row.caught} | ${row.missed} | ${row.timeout} | ${row.unviable}${run} |`;
});
const tried = Object.values(total).reduce((a, b) => a + b, 0);
const text = [
  '# Mutation testing',
  '',
  `Measured ${started} with \`${command}\` (cargo-mutants: each mutant is a small change to the code, such as`,
  'a condition inverted or a value replaced; a test must fail for it to count as caught). Unviable',
  'mutants do not compile. A missed mutant is a change no test noticed.',
  '',
  runs.size > 1 ? '| file | mutants | caught | missed | timed out | unviable | run |' : '| file | mutants | caught | missed | timed out | unviable |',
  runs.size > 1 ? '|---|---:|---:|---:|---:|---:|---|' : '|---|---:|---:|---:|---:|---:|',
  ...rows,
  `| **all** | **${tried}** | **${total.caught}** | **${total.missed}** | **${total.timeout}** | **${total.unviable}** |${runs.size > 1 ? ' |' : ''}`,
  '',
  missed.length ? '## Missed or timed out\n\n' + missed.map((m) => `- ${m}`).join('\n') : 'No mutant was missed.',
  '',
].join('\n');
writeFileSync(new URL('./results/mutants.md', import.meta.url), text);
console.log(text);
