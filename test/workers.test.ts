/**
 * Workers that end while an optimizer is busy in them (issue 13, item 2): worker.terminate(),
 * process.exit() in the worker and an uncaught error in the worker, 20 times each, with a
 * stepAsync in flight and without. Before the fix the in-flight cases aborted the whole process
 * ("terminate called after throwing an instance of 'Napi::Error'", exit 134) in every run.
 * Each matrix cell runs in a child process (test/support/worker-exit.mjs) that must exit 0.
 */
import { beforeAll, describe, expect, test } from 'vitest';

import { ensureDist } from './support/dist.js';
import { ended, runChild } from './support/child.js';

beforeAll(ensureDist);

const ROUNDS = 20;
const expectedCode: Record<string, number> = { terminate: 1, exit: 0, throw: 1 };

describe('a worker ending with fused-optim busy in it', () => {
  for (const mode of ['terminate', 'exit', 'throw']) {
    for (const inflight of [true, false]) {
      test(`${mode}, ${inflight ? 'a stepAsync in flight' : 'no step in flight'}: ${ROUNDS} workers, the process survives`, () => {
        const r = runChild('worker-exit.mjs', [mode, inflight ? '1' : '0', String(ROUNDS)]);
        expect(r.signal, ended(r)).toBeNull();
        expect(r.status, ended(r)).toBe(0);
        expect(r.json).toMatchObject({ mode, inflight, exits: ROUNDS, codes: { [expectedCode[mode]]: ROUNDS } });
        if (mode === 'throw') expect(r.json?.errors).toBe(ROUNDS);
      });
    }
  }
});
