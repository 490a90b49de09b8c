import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSteps, type Step } from '../src/provision/steps.js';

/** The step runner /mapping is made of: order, and what is undone when a step fails. */
describe('provisioning steps', () => {
  type Log = string[];
  const step = (name: string, fail = false, undo = true): Step<Log> => ({
    name,
    invoke: async (log) => {
      log.push(`do ${name}`);
      if (fail) throw new Error(`${name} failed`);
    },
    ...(undo ? { compensate: async (log: Log) => void log.push(`undo ${name}`) } : {}),
  });

  it('runs every step in order and undoes nothing when all succeed', async () => {
    const log: Log = [];
    await runSteps([step('a'), step('b'), step('c')], log, () => assert.fail('nothing to undo'));
    assert.deepEqual(log, ['do a', 'do b', 'do c']);
  });

  it('stops at the failing step, undoes it and every step before it in reverse, and rethrows', async () => {
    const log: Log = [];
    await assert.rejects(
      runSteps([step('a'), step('b', false, false), step('c', true), step('d')], log, () => assert.fail()),
      /c failed/,
    );
    assert.deepEqual(log, ['do a', 'do b', 'do c', 'undo c', 'undo a']);
  });

  it('a failing undo is reported, the other undos still run, and the original failure is what is thrown', async () => {
    const log: Log = [];
    const undoFailures: string[] = [];
    const brokenUndo: Step<Log> = {
      name: 'x',
      invoke: async (l) => void l.push('do x'),
      compensate: async () => {
        throw new Error('undo failed');
      },
    };
    await assert.rejects(
      runSteps([step('w'), brokenUndo, step('y', true)], log, (name, err) =>
        undoFailures.push(`${name}: ${(err as Error).message}`),
      ),
      /y failed/,
    );
    assert.deepEqual(log, ['do w', 'do x', 'do y', 'undo y', 'undo w']);
    assert.deepEqual(undoFailures, ['x: undo failed']);
  });
});
