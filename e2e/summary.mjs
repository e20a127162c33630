// Prints Playwright's outcome as the closing line CI reads: `playwright: N passed, M failed`.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(new URL('./test-results/results.json', import.meta.url)));
const { expected = 0, unexpected = 0, flaky = 0, skipped = 0 } = report.stats ?? {};
console.log(`playwright: ${expected + flaky} passed, ${unexpected} failed, ${skipped} skipped`);
process.exit(unexpected > 0 || expected + flaky === 0 ? 1 : 0);
