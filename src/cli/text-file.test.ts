import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { autoflow, type CliOutcome } from '../../test/helpers/cli-process.js';
import { createApp } from '../server/http/app.js';
import { serve, type RunningServer } from '../server/serve.js';
import { createFakeOperations, createMemoryLogger } from '../server/testing/fake-operations.js';
import { firstInvalidUtf8Offset } from './text-file.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

describe('files the CLI reads as input', () => {
  const operations = createFakeOperations({
    workflows: { echo: (input) => ({ input }), slow: () => null },
    delays: { slow: 120_000 },
  });
  let server: RunningServer;
  let dir: string;
  before(async () => {
    server = await serve(createApp({ operations, logger: createMemoryLogger() }), { port: 0, host: '127.0.0.1', shutdownGraceMs: 0 });
    dir = mkdtempSync(join(tmpdir(), 'autoflow-cli-files-'));
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const cli = (args: string[], stdin?: string): Promise<CliOutcome> =>
    autoflow(args, {
      cwd: dir,
      env: { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: 'test-token' },
      ...(stdin !== undefined && { stdin }),
    });

  test('a file saved with a BOM (Windows editors write one) is read as the API reads such a body', async () => {
    writeFileSync(join(dir, 'bom.json'), Buffer.concat([BOM, Buffer.from('{"name":"Zoë"}')]));
    const ran = await cli(['run', 'echo', '--input-file', 'bom.json', '--wait']);
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual(JSON.parse(ran.stdout), { input: { name: 'Zoë' } });

    await operations.startRun({ workflow: 'slow', id: 'bom-signal' });
    const signalled = await cli(['signal', 'bom-signal', 'go', '--data-file', '-'], '\uFEFF{"ok":true}');
    assert.equal(signalled.code, 0, signalled.stderr);
    assert.deepEqual(operations.signals.at(-1), { runId: 'bom-signal', name: 'go', payload: { ok: true } });
  });

  test('a file that is not UTF-8 is refused with its name and the offset of the first byte that is not, not sent garbled', async () => {
    // `{"name":"café"}` saved as Latin-1: é is the one byte 0xE9, at offset 12.
    writeFileSync(join(dir, 'latin1.json'), Buffer.from('{"name":"café"}', 'latin1'));
    const runsBefore = (await operations.listRuns({ limit: 500 })).runs.length;
    const ran = await cli(['run', 'echo', '--input-file', 'latin1.json']);
    assert.deepEqual(ran, {
      code: 2,
      stdout: '',
      stderr:
        'error: --input-file latin1.json is not UTF-8 (byte 0xe9 at offset 12; Latin-1 or Windows-1252 text, say): ' +
        'save it as UTF-8 and run the command again\n',
    });
    assert.equal((await operations.listRuns({ limit: 500 })).runs.length, runsBefore, 'no run was started');
    const sent = await cli(['send-event', '--type', 'x.y', '--data-file', 'latin1.json']);
    assert.equal(sent.code, 2);
    assert.match(sent.stderr, /^error: --data-file latin1\.json is not UTF-8 \(byte 0xe9 at offset 12;/);
  });
});

test('the offset of the first byte that is not UTF-8 is where the decoder finds the bytes invalid, and nowhere when it does not', () => {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const valid = (bytes: Uint8Array): boolean => {
    try {
      decoder.decode(bytes);
      return true;
    } catch {
      return false;
    }
  };
  const cases: Array<[number[], number | undefined]> = [
    [[0x61, 0x62], undefined],
    [[0x61, 0xe9], 1], // Latin-1 é at the end: a lead byte without its continuation
    [[0xe9, 0x61, 0x62], 0],
    [[0xc3, 0xa9, 0xff], 2],
    [[0xc0, 0x80], 0], // overlong NUL
    [[0xed, 0xa0, 0x80], 0], // a surrogate
    [[0xf4, 0x90, 0x80, 0x80], 0], // past U+10FFFF
    [[0xf0, 0x9f, 0x98, 0x80, 0x80], 4], // 😀 then a stray continuation byte
    [[0xe2, 0x82], 0], // cut short
  ];
  for (const [bytes, offset] of cases) {
    assert.equal(firstInvalidUtf8Offset(Uint8Array.from(bytes)), offset, bytes.map((b) => b.toString(16)).join(' '));
    assert.equal(valid(Uint8Array.from(bytes)), offset === undefined);
  }
  // Random bytes biased towards UTF-8's lead and continuation bytes: the scanner and the decoder agree on each.
  let seed = 7;
  const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
  const pool = [0x41, 0x80, 0x9f, 0xa0, 0xbf, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xc0];
  for (let i = 0; i < 5_000; i++) {
    const bytes = Uint8Array.from({ length: 1 + (next() % 6) }, () => pool[next() % pool.length]!);
    const offset = firstInvalidUtf8Offset(bytes);
    assert.equal(offset === undefined, valid(bytes), [...bytes].map((b) => b.toString(16)).join(' '));
    if (offset !== undefined) assert.ok(valid(bytes.subarray(0, offset)), 'the bytes before it are UTF-8');
  }
});
