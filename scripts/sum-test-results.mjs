// Sums every workspace's Vitest JSON report (test-results/vitest.json) into one closing line,
// `N passed, N failed`, so that a CI run that executed no test is visible. Exits 1 when any test
// failed, any suite failed to load, or no test ran at all.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['apps', 'packages'].flatMap((dir) =>
  existsSync(dir) ? readdirSync(dir).map((name) => join(dir, name)) : [],
);
roots.push('bench');

let passed = 0;
let failed = 0;
let skipped = 0;
let brokenSuites = 0;
for (const root of roots) {
  const file = join(root, 'test-results', 'vitest.json');
  if (!existsSync(file)) {
    if (existsSync(join(root, 'package.json'))) console.log(`${root}: no test report`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  // A file that fails to import reports no tests but a failed suite.
  const broken = report.testResults.filter((s) => s.status === 'failed' && s.assertionResults.length === 0).length;
  brokenSuites += broken;
  console.log(`${root}: ${report.numPassedTests} passed, ${report.numFailedTests} failed${broken ? `, ${broken} suites failed to run` : ''}`);
}
failed += brokenSuites;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
