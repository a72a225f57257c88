// A node:test reporter that `autoflow test` adds beside `spec`: it keeps the totals node reports
// at the end of a run ("tests 12", "pass 11", "fail 1"…) and writes them as one JSON line, so that
// the command can print its summary without parsing human-readable output.
const TOTAL = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) (\d+(?:\.\d+)?)$/;

export default async function* summary(source) {
  const totals = {};
  for await (const event of source) {
    if (event.type !== 'test:diagnostic' || event.data.nesting !== 0) continue;
    const match = TOTAL.exec(event.data.message);
    if (match) totals[match[1]] = Number(match[2]);
  }
  yield `${JSON.stringify(totals)}\n`;
}
