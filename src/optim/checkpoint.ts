/**
 * Optimizer checkpoints: the state dict (a plain object of typed arrays) and its versioned
 * binary file format (docs/checkpoint-format.md).
 *
 * This module only encodes, decodes and validates; the optimizer classes
 * (`stateDict`, `loadStateDict`, `save`, `load`) move the data in and out of the arena.
 *
 * File layout (little-endian, every section starts on an 8-byte boundary):
 *
 *     0   8  magic "FOPTCKPT"
 *     8   4  u32 format version (2; version 1 files, without groups, are read too)
 *     12  4  u32 optimizer kind: the rule spec's checkpointCode (0 sgd, 1 adam, 2 adamw)
 *     16  4  u32 tensor count T
 *     20  4  u32 state arrays per tensor S (sgd 1: momentumBuffer; adam(w) 2: expAvg, expAvgSq)
 *     24  8  f64 iteration (steps taken, skipped ones included: the schedule position)
 *     32  8  f64 applied steps (bias correction, first momentum step)
 *     40  8  f64 trace length (steps recorded), -1 when the checkpoint holds no trace
 *     48  4  u32 byte length J of the JSON section
 *     52  4  u32 reserved (0)
 *     56  8  f64 file length in bytes, checksum included
 *     64     f64 × T tensor lengths
 *            J bytes UTF-8 JSON {lr, nextLr, hyperparameters, state, groups, mode?}, padded
 *            with spaces to 8 (groups: [{tensors, hyperparameters, lr}], since version 2;
 *            mode: 'train' | 'eval', only for rules with two parameter points)
 *            f32 tensor data, (1 + S) × T arrays: params[0..T), then each state array in
 *            order, zero-padded to 8
 *            trace (when present, length n): f64 l2[n], f64 l1[n], f64 lr[n], u8 skipped[n],
 *            zero-padded to 8
 *            32 bytes SHA-256 of everything before it
 * @module
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';

import { writeFileAtomic, writeFileAtomicSync } from '../fs-atomic.js';
import * as v from '../validate.js';
import { OPTIMIZER_KINDS, RULES, type OptimizerKind } from './rules/index.js';

/** The `format` field of a state dict. */
export const STATE_DICT_FORMAT = 'fused-optim/optimizer-state';

/** The checkpoint format version this code writes, and the newest it reads. */
export const CHECKPOINT_VERSION = 2;

/** The first 8 bytes of a checkpoint file. */
export const CHECKPOINT_MAGIC = 'FOPTCKPT';

/** Names of the per-tensor state arrays of each optimizer kind, in file order. */
export const STATE_NAMES: Readonly<Record<OptimizerKind, readonly string[]>> = Object.freeze(
  Object.fromEntries(OPTIMIZER_KINDS.map((k) => [k, Object.freeze([...RULES[k].stateNames])])) as Record<OptimizerKind, readonly string[]>,
);

/** One parameter group of a checkpoint. */
export interface CheckpointGroup {
  /** Indices of the group's tensors (into `lengths`, `params`, ...), in order. */
  tensors: number[];
  /** The group's resolved hyperparameters except `lr`. */
  hyperparameters: Record<string, number | boolean | null>;
  /** The group's learning rate when it is a number; `null` for a schedule. */
  lr: number | null;
  /** The rule's host-side state of the group (e.g. NAdam's μ product); absent for most rules. */
  hostState?: Record<string, number> | null;
}

/** The trace part of a state dict: the record of every step since construction (or `resetTrace`). */
export interface CheckpointTrace {
  l2: Float64Array;
  l1: Float64Array;
  /** 1 where the step was skipped. */
  skipped: Uint8Array;
  /** Learning rate used at each step. */
  lr: Float64Array;
}

/**
 * Everything needed to resume an optimizer bit for bit (with the same gradients and, when a
 * schedule is used, the same schedule function). Returned by `stateDict()`, taken by
 * `loadStateDict()`, stored by `save()`. The arrays are copies of the arena.
 */
export interface OptimizerStateDict {
  format: typeof STATE_DICT_FORMAT;
  /** Checkpoint format version ({@link CHECKPOINT_VERSION}). */
  version: number;
  kind: OptimizerKind;
  /** Length of each tensor. */
  lengths: number[];
  /** Steps taken, skipped ones included: the schedule's argument for the next step. */
  iteration: number;
  /** Steps applied (not skipped): drives Adam's bias correction and SGD's first momentum step. */
  appliedSteps: number;
  /**
   * The resolved hyperparameters except `lr` (e.g. beta1, beta2, eps, weightDecay, ...) of the
   * first group, with the global gradient options (maxGradNorm, gradScale, skipNonFinite).
   */
  hyperparameters: Record<string, number | boolean | null>;
  /** The first group's learning rate when it is a number; `null` when it is a schedule (a function is not serialised). */
  lr: number | null;
  /**
   * Every parameter group: its tensors, hyperparameters and lr. `null` in a version 1
   * checkpoint (one group: `hyperparameters` and `lr` above).
   */
  groups: CheckpointGroup[] | null;
  /** The learning rate the next step would have used (informative; `null` if the schedule threw). */
  nextLr: number | null;
  /** Parameters of each tensor. */
  params: Float32Array[];
  /** Per-tensor state arrays by name ({@link STATE_NAMES}): `expAvg`, `expAvgSq` or `momentumBuffer`. */
  state: Record<string, Float32Array[]>;
  /** The trace so far, or `null` when the optimizer records none (traceCapacity 0). */
  trace: CheckpointTrace | null;
  /**
   * Rules with two parameter points (schedule-free AdamW): the one `params` holds, `'train'`
   * (y) or `'eval'` (x). Absent for other rules; a state without it loads in `'train'`.
   */
  mode?: 'train' | 'eval';
}

/** Why a checkpoint file could not be read. */
export type CheckpointErrorCode =
  | 'ERR_CHECKPOINT_TRUNCATED'
  | 'ERR_CHECKPOINT_NOT_A_CHECKPOINT'
  | 'ERR_CHECKPOINT_VERSION'
  | 'ERR_CHECKPOINT_CORRUPT';

/**
 * A checkpoint file that is truncated, corrupt (checksum or structure), not a checkpoint, or
 * written by a newer format version. A file that is sound but does not fit the optimizer
 * (kind, tensor count, lengths) raises a `RangeError` instead.
 */
export class CheckpointError extends Error {
  readonly code: CheckpointErrorCode;
  constructor(message: string, code: CheckpointErrorCode) {
    super(message);
    this.name = 'CheckpointError';
    this.code = code;
  }
}

const KIND_CODES: Readonly<Record<OptimizerKind, number>> = Object.freeze(
  Object.fromEntries(OPTIMIZER_KINDS.map((k) => [k, RULES[k].checkpointCode])) as Record<OptimizerKind, number>,
);
const HEADER_BYTES = 64;
const DIGEST_BYTES = 32;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function requireLittleEndian(): void {
  if (!LITTLE_ENDIAN) {
    throw new Error('fused-optim: checkpoints are little-endian and this host is big-endian; it is not supported');
  }
}

const pad8 = (n: number): number => (8 - (n % 8)) % 8;

// --- validation of a state dict ------------------------------------------------------------------

function f32List(name: string, value: unknown, lengths: readonly number[]): Float32Array[] {
  if (!Array.isArray(value)) throw v.typeError(name, `an array of ${lengths.length} Float32Arrays`, value);
  if (value.length !== lengths.length) {
    throw v.rangeError(name, `an array of ${lengths.length} Float32Arrays (one per tensor)`, value);
  }
  return value.map((a, i) => v.float32ArrayOfLength(`${name}[${i}]`, a, lengths[i]));
}

function typedOfLength<T extends ArrayBufferView & { length: number }>(
  name: string,
  value: unknown,
  ctor: new (n: number) => T,
  length: number | null,
): T {
  if (!(value instanceof ctor)) throw v.typeError(name, `a ${ctor.name}`, value);
  if (length !== null && value.length !== length) throw v.rangeError(name, `a ${ctor.name} of length ${length}`, value);
  return value;
}

/**
 * Checks the structure of a state dict, and that it fits an optimizer of `expected.kind` with
 * `expected.lengths`. Hyperparameter values and trace values are checked by the optimizer
 * (they need its resolver / NormTrace). Returns the same object, typed.
 * @throws TypeError for a wrong type, RangeError for a mismatch or an out-of-range value,
 *   naming the field (e.g. `state.params[2]`).
 */
export function checkStateDict(
  value: unknown,
  expected: { kind: OptimizerKind; lengths: readonly number[]; optimizer: string },
  name = 'state',
): OptimizerStateDict {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw v.typeError(name, 'an optimizer state dict object', value);
  const s = value as Record<string, unknown>;
  if (s.format !== STATE_DICT_FORMAT) throw v.rangeError(`${name}.format`, `'${STATE_DICT_FORMAT}' (from stateDict())`, s.format);
  const version = v.integer(`${name}.version`, s.version, 1);
  if (version > CHECKPOINT_VERSION) {
    throw v.rangeError(`${name}.version`, `a format version <= ${CHECKPOINT_VERSION} (written by a newer fused-optim)`, s.version);
  }
  const kind = v.oneOf(`${name}.kind`, s.kind, OPTIMIZER_KINDS);
  if (kind !== expected.kind) {
    throw v.rangeError(`${name}.kind`, `'${expected.kind}' (this optimizer is ${expected.optimizer})`, kind);
  }
  if (!Array.isArray(s.lengths)) throw v.typeError(`${name}.lengths`, 'an array of tensor lengths', s.lengths);
  const lengths = s.lengths as unknown[];
  if (lengths.length !== expected.lengths.length) {
    throw v.rangeError(
      `${name}.lengths`,
      `${expected.lengths.length} tensor${expected.lengths.length === 1 ? '' : 's'} (as this optimizer)`,
      lengths,
    );
  }
  lengths.forEach((n, i) => {
    const len = v.integer(`${name}.lengths[${i}]`, n, 0);
    if (len !== expected.lengths[i]) throw v.rangeError(`${name}.lengths[${i}]`, `${expected.lengths[i]} (this optimizer's tensor ${i})`, n);
  });
  const iteration = v.integer(`${name}.iteration`, s.iteration, 0);
  v.integer(`${name}.appliedSteps`, s.appliedSteps, 0, iteration);
  if (s.hyperparameters === null || typeof s.hyperparameters !== 'object' || Array.isArray(s.hyperparameters)) {
    throw v.typeError(`${name}.hyperparameters`, 'an object', s.hyperparameters);
  }
  if (s.lr !== null) v.nonNegative(`${name}.lr`, s.lr);
  if (s.nextLr !== null && s.nextLr !== undefined && typeof s.nextLr !== 'number') {
    throw v.typeError(`${name}.nextLr`, 'a number or null', s.nextLr);
  }
  if (s.groups !== null && s.groups !== undefined) checkGroups(`${name}.groups`, s.groups, expected.lengths.length);
  else if (version >= 2) throw v.typeError(`${name}.groups`, 'an array of groups (format version 2)', s.groups);
  f32List(`${name}.params`, s.params, expected.lengths);
  const names = STATE_NAMES[kind];
  if (s.state === null || typeof s.state !== 'object' || Array.isArray(s.state)) {
    throw v.typeError(`${name}.state`, `an object with ${names.join(', ')}`, s.state);
  }
  const st = s.state as Record<string, unknown>;
  for (const key of Object.keys(st)) {
    if (!names.includes(key)) throw new RangeError(`Unknown state ${name}.state.${key} for ${expected.optimizer}; expected ${names.join(', ')}`);
  }
  for (const key of names) f32List(`${name}.state.${key}`, st[key], expected.lengths);
  if (s.mode !== undefined) v.oneOf(`${name}.mode`, s.mode, ['train', 'eval'] as const);
  if (s.trace !== null) {
    if (typeof s.trace !== 'object' || Array.isArray(s.trace)) throw v.typeError(`${name}.trace`, 'an object or null', s.trace);
    const t = s.trace as Record<string, unknown>;
    const l2 = typedOfLength(`${name}.trace.l2`, t.l2, Float64Array, null);
    typedOfLength(`${name}.trace.l1`, t.l1, Float64Array, l2.length);
    typedOfLength(`${name}.trace.lr`, t.lr, Float64Array, l2.length);
    typedOfLength(`${name}.trace.skipped`, t.skipped, Uint8Array, l2.length);
  }
  return s as unknown as OptimizerStateDict;
}

/** Structure of `groups`: objects with tensor indices that cover 0..tensors-1 once, in order. */
function checkGroups(name: string, value: unknown, tensors: number): void {
  if (!Array.isArray(value) || value.length === 0) throw v.typeError(name, 'a non-empty array of groups', value);
  let next = 0;
  value.forEach((g, i) => {
    const at = `${name}[${i}]`;
    if (g === null || typeof g !== 'object' || Array.isArray(g)) throw v.typeError(at, 'a group object', g);
    const o = g as Record<string, unknown>;
    if (!Array.isArray(o.tensors)) throw v.typeError(`${at}.tensors`, 'an array of tensor indices', o.tensors);
    (o.tensors as unknown[]).forEach((t, j) => {
      const idx = v.integer(`${at}.tensors[${j}]`, t, 0, Math.max(0, tensors - 1));
      if (idx !== next) throw v.rangeError(`${at}.tensors[${j}]`, `${next} (groups list the tensors in order)`, t);
      next++;
    });
    if (o.hyperparameters === null || typeof o.hyperparameters !== 'object' || Array.isArray(o.hyperparameters)) {
      throw v.typeError(`${at}.hyperparameters`, 'an object', o.hyperparameters);
    }
    if (o.lr !== null) v.nonNegative(`${at}.lr`, o.lr);
  });
  if (next !== tensors) throw v.rangeError(name, `groups covering all ${tensors} tensors`, value);
}

// --- encoding ----------------------------------------------------------------------------------------

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** The JSON section padded with spaces to 8 bytes, and its unpadded length. */
function jsonSection(s: OptimizerStateDict): { bytes: Uint8Array; length: number } {
  const json = JSON.stringify({ lr: s.lr, nextLr: s.nextLr, hyperparameters: s.hyperparameters, state: STATE_NAMES[s.kind], groups: s.groups, ...(s.mode !== undefined && { mode: s.mode }) });
  const raw = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(raw.length + pad8(raw.length), 0x20);
  raw.copy(out);
  return { bytes: out, length: raw.length };
}

/** The file length a checkpoint of this shape has. */
function fileLength(tensors: number, stateCount: number, elements: number, jsonBytes: number, traceLength: number): number {
  let n = HEADER_BYTES + 8 * tensors;
  n += jsonBytes + pad8(jsonBytes);
  const data = 4 * elements * (1 + stateCount);
  n += data + pad8(data);
  if (traceLength >= 0) {
    const tr = 25 * traceLength;
    n += tr + pad8(tr);
  }
  return n + DIGEST_BYTES;
}

/**
 * The checkpoint file of a (checked) state dict, as a sequence of byte chunks that views the
 * state's arrays (no copy of the tensor data); the last chunk is the SHA-256 of the others.
 */
export function* encodeCheckpoint(s: OptimizerStateDict): Generator<Uint8Array> {
  requireLittleEndian();
  const hash = createHash('sha256');
  const emit = (chunk: Uint8Array): Uint8Array => {
    hash.update(chunk);
    return chunk;
  };
  const names = STATE_NAMES[s.kind];
  const tensors = s.lengths.length;
  const elements = s.lengths.reduce((a, b) => a + b, 0);
  const json = jsonSection(s);
  const rawJsonBytes = json.length;
  const traceLength = s.trace === null ? -1 : s.trace.l2.length;
  const header = new ArrayBuffer(HEADER_BYTES + 8 * tensors);
  const dv = new DataView(header);
  for (let i = 0; i < 8; i++) dv.setUint8(i, CHECKPOINT_MAGIC.charCodeAt(i));
  dv.setUint32(8, s.groups === null ? 1 : CHECKPOINT_VERSION, true);
  dv.setUint32(12, KIND_CODES[s.kind], true);
  dv.setUint32(16, tensors, true);
  dv.setUint32(20, names.length, true);
  dv.setFloat64(24, s.iteration, true);
  dv.setFloat64(32, s.appliedSteps, true);
  dv.setFloat64(40, traceLength, true);
  dv.setUint32(48, rawJsonBytes, true);
  dv.setUint32(52, 0, true);
  dv.setFloat64(56, fileLength(tensors, names.length, elements, rawJsonBytes, traceLength), true);
  s.lengths.forEach((n, i) => dv.setFloat64(HEADER_BYTES + 8 * i, n, true));
  yield emit(new Uint8Array(header));
  yield emit(json.bytes);
  const padding = new Uint8Array(8);
  for (const a of s.params) if (a.length > 0) yield emit(bytesOf(a));
  for (const key of names) for (const a of s.state[key]) if (a.length > 0) yield emit(bytesOf(a));
  const dataPad = pad8(4 * elements * (1 + names.length));
  if (dataPad > 0) yield emit(padding.subarray(0, dataPad));
  if (s.trace !== null && traceLength > 0) {
    const t = s.trace;
    for (const a of [t.l2, t.l1, t.lr, t.skipped]) yield emit(bytesOf(a));
    const tracePad = pad8(25 * traceLength);
    if (tracePad > 0) yield emit(padding.subarray(0, tracePad));
  }
  yield new Uint8Array(hash.digest());
}

// --- decoding ----------------------------------------------------------------------------------------

/**
 * Parses a checkpoint file. Checks, in this order: the size of the fixed header, the magic,
 * the version, the file length recorded in the header against the actual one (truncation),
 * the SHA-256 checksum, then the structure (JSON, section sizes). Copies nothing but the
 * small sections: the returned arrays view `bytes` (or a realigned copy of it).
 * @param source - named in error messages (the file path).
 * @throws CheckpointError with a `code` saying what is wrong.
 */
export function decodeCheckpoint(bytes: Uint8Array, source?: string): OptimizerStateDict {
  requireLittleEndian();
  const fail = (code: CheckpointErrorCode, why: string): never => {
    throw new CheckpointError(`Cannot load the checkpoint${source === undefined ? '' : ` ${source}`}: ${why}`, code);
  };
  if (bytes.byteLength < HEADER_BYTES + DIGEST_BYTES) {
    const magicSoFar = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(8, bytes.byteLength)).toString('latin1');
    if (!CHECKPOINT_MAGIC.startsWith(magicSoFar)) fail('ERR_CHECKPOINT_NOT_A_CHECKPOINT', `not a fused-optim checkpoint (it does not start with '${CHECKPOINT_MAGIC}')`);
    fail('ERR_CHECKPOINT_TRUNCATED', `the file is truncated: ${bytes.byteLength} bytes, less than the ${HEADER_BYTES + DIGEST_BYTES} of an empty checkpoint`);
  }
  let b = bytes;
  if (b.byteOffset % 8 !== 0) b = new Uint8Array(b); // realign so that typed views are legal
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = Buffer.from(b.buffer, b.byteOffset, 8).toString('latin1');
  if (magic !== CHECKPOINT_MAGIC) fail('ERR_CHECKPOINT_NOT_A_CHECKPOINT', `not a fused-optim checkpoint (it does not start with '${CHECKPOINT_MAGIC}')`);
  const version = dv.getUint32(8, true);
  if (version === 0 || version > CHECKPOINT_VERSION) {
    fail(
      version === 0 ? 'ERR_CHECKPOINT_CORRUPT' : 'ERR_CHECKPOINT_VERSION',
      `format version ${version} is not supported (this fused-optim reads versions 1 to ${CHECKPOINT_VERSION}${version > CHECKPOINT_VERSION ? '; it was written by a newer fused-optim' : ''})`,
    );
  }
  const declared = dv.getFloat64(56, true);
  if (!Number.isSafeInteger(declared) || declared < HEADER_BYTES + DIGEST_BYTES) {
    fail('ERR_CHECKPOINT_CORRUPT', `the header is corrupt (file length field ${declared})`);
  }
  if (b.byteLength < declared) {
    fail('ERR_CHECKPOINT_TRUNCATED', `the file is truncated: ${b.byteLength} bytes of the ${declared} its header announces`);
  }
  if (b.byteLength > declared) {
    fail('ERR_CHECKPOINT_CORRUPT', `the file has ${b.byteLength - declared} bytes after the ${declared} its header announces`);
  }
  const body = b.subarray(0, declared - DIGEST_BYTES);
  const digest = createHash('sha256').update(body).digest();
  if (Buffer.compare(digest, b.subarray(declared - DIGEST_BYTES)) !== 0) {
    fail('ERR_CHECKPOINT_CORRUPT', 'the SHA-256 checksum does not match: the file is corrupt');
  }
  // The checksum holds; what follows only fails for a file crafted or written by a buggy writer.
  const kindCode = dv.getUint32(12, true);
  const kind = OPTIMIZER_KINDS.find((k) => KIND_CODES[k] === kindCode);
  if (kind === undefined) fail('ERR_CHECKPOINT_CORRUPT', `unknown optimizer kind code ${kindCode}`);
  const k = kind as OptimizerKind;
  const names = STATE_NAMES[k];
  const tensors = dv.getUint32(16, true);
  const stateCount = dv.getUint32(20, true);
  if (stateCount !== names.length) fail('ERR_CHECKPOINT_CORRUPT', `${stateCount} state arrays per tensor for kind '${k}' (expected ${names.length})`);
  const iteration = dv.getFloat64(24, true);
  const appliedSteps = dv.getFloat64(32, true);
  const traceLength = dv.getFloat64(40, true);
  const jsonBytes = dv.getUint32(48, true);
  if (!Number.isSafeInteger(iteration) || iteration < 0 || !Number.isSafeInteger(appliedSteps) || appliedSteps < 0 || appliedSteps > iteration) {
    fail('ERR_CHECKPOINT_CORRUPT', `bad counters (iteration ${iteration}, applied steps ${appliedSteps})`);
  }
  if (!Number.isSafeInteger(traceLength) || traceLength < -1) fail('ERR_CHECKPOINT_CORRUPT', `bad trace length ${traceLength}`);
  if (HEADER_BYTES + 8 * tensors > body.length) fail('ERR_CHECKPOINT_CORRUPT', `tensor count ${tensors} does not fit the file`);
  const lengths: number[] = [];
  let elements = 0;
  for (let i = 0; i < tensors; i++) {
    const n = dv.getFloat64(HEADER_BYTES + 8 * i, true);
    if (!Number.isSafeInteger(n) || n < 0) fail('ERR_CHECKPOINT_CORRUPT', `bad length ${n} of tensor ${i}`);
    lengths.push(n);
    elements += n;
  }
  if (fileLength(tensors, stateCount, elements, jsonBytes, traceLength) !== declared) {
    fail('ERR_CHECKPOINT_CORRUPT', 'the section sizes in the header do not add up to the file length');
  }
  let at = HEADER_BYTES + 8 * tensors;
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(Buffer.from(b.buffer, b.byteOffset + at, jsonBytes).toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    return fail('ERR_CHECKPOINT_CORRUPT', `the JSON section does not parse (${(e as Error).message})`);
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) fail('ERR_CHECKPOINT_CORRUPT', 'the JSON section is not an object');
  const listed = meta.state;
  if (!Array.isArray(listed) || listed.length !== names.length || listed.some((x, i) => x !== names[i])) {
    fail('ERR_CHECKPOINT_CORRUPT', `the JSON section lists state ${JSON.stringify(listed)}, expected ${JSON.stringify(names)}`);
  }
  let groups: CheckpointGroup[] | null = null;
  if (version >= 2) {
    try {
      checkGroups('groups', meta.groups, tensors);
    } catch (e) {
      fail('ERR_CHECKPOINT_CORRUPT', `the JSON section's groups are malformed (${(e as Error).message})`);
    }
    groups = meta.groups as CheckpointGroup[];
  }
  if (meta.mode !== undefined && meta.mode !== 'train' && meta.mode !== 'eval') {
    fail('ERR_CHECKPOINT_CORRUPT', `the JSON section's mode is ${JSON.stringify(meta.mode)}, expected "train" or "eval"`);
  }
  at += jsonBytes + pad8(jsonBytes);
  const f32 = (n: number): Float32Array => {
    const a = new Float32Array(b.buffer, b.byteOffset + at, n);
    at += 4 * n;
    return a;
  };
  const params = lengths.map(f32);
  const state: Record<string, Float32Array[]> = {};
  for (const key of names) state[key] = lengths.map(f32);
  at += pad8(4 * elements * (1 + stateCount));
  let trace: CheckpointTrace | null = null;
  if (traceLength >= 0) {
    const f64 = (): Float64Array => {
      const a = new Float64Array(b.buffer, b.byteOffset + at, traceLength);
      at += 8 * traceLength;
      return a;
    };
    const l2 = f64();
    const l1 = f64();
    const lr = f64();
    const skipped = new Uint8Array(b.buffer, b.byteOffset + at, traceLength);
    trace = { l2, l1, lr, skipped };
  }
  return {
    format: STATE_DICT_FORMAT,
    version,
    kind: k,
    lengths,
    iteration,
    appliedSteps,
    hyperparameters: meta.hyperparameters as Record<string, number | boolean | null>,
    lr: meta.lr as number | null,
    nextLr: (meta.nextLr ?? null) as number | null,
    groups,
    params,
    state,
    trace,
    ...(meta.mode !== undefined && { mode: meta.mode as 'train' | 'eval' }),
  };
}

// --- files ---------------------------------------------------------------------------------------------

/**
 * Writes a (checked) state dict as a checkpoint file, atomically: a temporary file in the same
 * directory, fsync, rename. A crash leaves the old file or the new one, never a torn one.
 */
export async function writeCheckpoint(path: string, state: OptimizerStateDict): Promise<void> {
  await writeFileAtomic(v.filePath('path', path), encodeCheckpoint(state));
}

/** {@link writeCheckpoint}, synchronously. */
export function writeCheckpointSync(path: string, state: OptimizerStateDict): void {
  writeFileAtomicSync(v.filePath('path', path), encodeCheckpoint(state));
}

/**
 * Reads and checks a checkpoint file (magic, version, length, checksum, structure) without an
 * optimizer, e.g. to inspect it. The whole file is read into memory.
 * @throws CheckpointError for a truncated, corrupt or unsupported file; the `fs` error when it
 *   cannot be read.
 */
export async function readCheckpoint(path: string): Promise<OptimizerStateDict> {
  const p = v.filePath('path', path);
  return decodeCheckpoint(await fsp.readFile(p), p);
}

/** {@link readCheckpoint}, synchronously. */
export function readCheckpointSync(path: string): OptimizerStateDict {
  const p = v.filePath('path', path);
  return decodeCheckpoint(fs.readFileSync(p), p);
}
