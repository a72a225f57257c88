// A node:test reporter that `autoflow test` adds beside `spec`: it keeps the totals node reports
// at the end of a run ("tests 12", "pass 11", "fail 1"…) and writes them as one JSON line, so that
// the command can print its summary without parsing human-readable output. It also lists the files
// that defined at least one test, so that a file named on the command line that defines none fails
// the command: node 20 reports such a file as one passing test named by its path, node 22 not at all.
const TOTAL = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) (\d+(?:\.\d+)?)$/;

export default async function* summary(source) {
  const totals = {};
  const tested = new Set();
  let filesAsTests = 0;
  for await (const event of source) {
    if (event.type === 'test:pass' || event.type === 'test:fail') {
      const { name, file, nesting } = event.data;
      if (name !== file) tested.add(file);
      else if (event.type === 'test:pass' && nesting === 0) filesAsTests++;
    }
    if (event.type !== 'test:diagnostic' || event.data.nesting !== 0) continue;
    const match = TOTAL.exec(event.data.message);
    if (match) totals[match[1]] = Number(match[2]);
  }
  // A file without tests is not a test that passed.
  if (filesAsTests > 0 && totals.tests !== undefined) {
    totals.tests -= filesAsTests;
    totals.pass = (totals.pass ?? 0) - filesAsTests;
  }
  yield `${JSON.stringify({ totals, tested: [...tested].sort() })}\n`;
}
