/**
 * Runs a test/support script in a child node process (the same node as the test runner) and
 * returns its exit status, signal, output and its last stdout line parsed as JSON. A crash of
 * the addon (abort, segfault) then fails the test that caused it instead of the test runner.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { root } from './dist.js';

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | null;
}

/** V8 flags this node needs for ArrayBuffer.prototype.transfer() (Node 20 has it behind one). */
export function transferFlags(): string[] {
  return typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function' ? [] : ['--harmony-rab-gsab-transfer'];
}

export function runChild(script: string, args: string[], nodeFlags: string[] = [], timeout = 120_000): ChildResult {
  const r = spawnSync(process.execPath, [...nodeFlags, path.join(root, 'test', 'support', script), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(last) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, json };
}

/** A one-line description of how a child ended, for assertion messages. */
export function ended(r: ChildResult): string {
  return `exit ${r.status}, signal ${r.signal}; stderr: ${r.stderr.slice(-1500)}`;
}
