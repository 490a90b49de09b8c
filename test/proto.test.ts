import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decodeMessage, encodeMessage, type Message } from '../src/messaging/message.js';

const root = path.resolve(import.meta.dirname, '..');

/** Every file under `dir`, relative to it. */
function files(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort();
}

describe("the bus envelope from Mainflux's .proto", () => {
  it('src/gen is what `npm run generate:proto` makes from proto/ (no hand edits, no drift)', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-proto-'));
    try {
      execFileSync(path.join(root, 'node_modules/.bin/buf'), ['generate', '-o', out], {
        cwd: root,
        env: { ...process.env, PATH: `${path.join(root, 'node_modules/.bin')}:${process.env.PATH}` },
        stdio: 'pipe',
      });
      const generated = path.join(out, 'src/gen');
      const committed = path.join(root, 'src/gen');
      assert.deepEqual(files(generated), files(committed));
      for (const f of files(committed)) {
        assert.equal(
          fs.readFileSync(path.join(committed, f), 'utf8'),
          fs.readFileSync(path.join(generated, f), 'utf8'),
          `${f} differs from what buf generates`,
        );
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  const message: Message = {
    channel: 'c1',
    subtopic: 'a.b',
    publisher: 't1',
    protocol: 'mqtt',
    payload: Buffer.from('{"v":1}'),
    created: 1733360000123456789n,
  };

  // The bytes Go's protobuf (Mainflux) writes for these messages: fields in number order,
  // proto3 defaults left out, int64 as a varint (ten bytes when negative).
  const golden: [Message, string][] = [
    [message, '0a0263311203612e621a02743122046d7174742a077b2276223a317d30959aeb99c8b7888718'],
    [{ ...message, subtopic: '', payload: Buffer.alloc(0), created: 0n }, '0a0263311a02743122046d717474'],
    [
      { ...message, created: -5n },
      '0a0263311203612e621a02743122046d7174742a077b2276223a317d30fbffffffffffffffff01',
    ],
  ];

  it('writes the bytes Mainflux writes, and reads them back', () => {
    for (const [m, hex] of golden) {
      assert.equal(encodeMessage(m).toString('hex'), hex);
      const back = decodeMessage(Buffer.from(hex, 'hex'));
      assert.deepEqual(
        { ...back, payload: back.payload.toString('hex') },
        { ...m, payload: m.payload.toString('hex') },
      );
      assert.ok(Buffer.isBuffer(back.payload));
    }
  });

  it('skips fields it does not know (a newer envelope) and refuses bytes that are no envelope', () => {
    // Field 9 (a string "x") after the known ones.
    const newer = Buffer.concat([encodeMessage(message), Buffer.from('4a0178', 'hex')]);
    assert.equal(decodeMessage(newer).channel, 'c1');
    assert.throws(() => decodeMessage(Buffer.from('0a05', 'hex'))); // a string longer than the bytes
    assert.throws(() => decodeMessage(Buffer.from('0f', 'hex'))); // wire type 7 does not exist
  });
});
