// The bad-input matrix, run in a child process by test/bad-input.test.ts (so that a crash of
// the process is seen as such, not as a failed test): `node test/support/bad-input-cases.mjs`.
// Imports the built package (dist/). Prints {"ids": [...]} (every case, in order), then one JSON
// line per case as it completes, then a final {"done": n} line; a crash leaves the last case started on stderr.
//
// Each case: [id, () => call, expected error class, regex the message must match (the name
// of the argument)].
import * as fo from '../../dist/index.js';

const f32 = (n) => new Float32Array(n);
const detached = (n) => {
  const a = new Float32Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
};
const T = 'TypeError';
const R = 'RangeError';
const sched = () => 0.1;

/** Objects created once for the method cases, disposed at the end. */
const adam = new fo.Adam([4, 3], { lr: 0.1 });
const sgd = new fo.SGD([4], { momentum: 0.9 });
const adamw = new fo.AdamW([2]);
const trace = new fo.NormTrace({ kind: 'sgd' });
const plateau = new fo.ReduceOnPlateau({ peak: 0.1 });
const goodState = adam.stateDict();

export const CASES = [
  // --- functional steps -------------------------------------------------------------------------
  ['adamStep params not an array', () => fo.adamStep([1, 2], f32(2), f32(2), f32(2), { step: 1 }), T, /for params but received Array\(2\)/],
  ['adamStep grads a Float64Array', () => fo.adamStep(f32(2), new Float64Array(2), f32(2), f32(2), { step: 1 }), T, /for grads but received Float64Array/],
  ['adamStep expAvg null', () => fo.adamStep(f32(2), f32(2), null, f32(2), { step: 1 }), T, /for expAvg but received null/],
  ['adamStep expAvgSq wrong length', () => fo.adamStep(f32(2), f32(2), f32(2), f32(3), { step: 1 }), R, /for expAvgSq/],
  ['adamStep options missing', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2)), T, /for options but received undefined/],
  ['adamStep step missing', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2), {}), T, /for options\.step/],
  ['adamStep step 0', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2), { step: 0 }), R, /for options\.step but received 0/],
  ['adamStep step 1.5', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2), { step: 1.5 }), R, /for options\.step/],
  ['adamStep lr negative', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2), { step: 1, lr: -1 }), R, /for options\.lr but received -1/],
  ['adamStep lr string', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2), { step: 1, lr: '0.1' }), T, /for options\.lr but received '0\.1'/],
  ['adamStep beta1 = 1', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2), { step: 1, beta1: 1 }), R, /a number in \[0, 1\) for options\.beta1/],
  ['adamStep beta2 NaN', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2), { step: 1, beta2: NaN }), R, /for options\.beta2 but received NaN/],
  ['adamStep eps negative', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2), { step: 1, eps: -1e-8 }), R, /for options\.eps/],
  ['adamStep weightDecay Infinity', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2), { step: 1, weightDecay: Infinity }), R, /for options\.weightDecay/],
  ['adamStep decoupled 1', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2), { step: 1, decoupled: 1 }), T, /a boolean for options\.decoupled/],
  ['adamStep maxGradNorm 0', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2), { step: 1, maxGradNorm: 0 }), R, /for options\.maxGradNorm but received 0/],
  ['adamStep gradScale -1', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2), { step: 1, gradScale: -1 }), R, /for options\.gradScale/],
  ['adamStep skipNonFinite "yes"', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2), { step: 1, skipNonFinite: 'yes' }), T, /for options\.skipNonFinite/],
  ['adamStep threads 0', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2), { step: 1, threads: 0 }), R, /for options\.threads but received 0/],
  ['adamStep threads 1000', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2), { step: 1, threads: 1000 }), R, /for options\.threads/],
  ['adamStep unknown option', () => fo.adamStep(f32(2), f32(2), f32(2), f32(2), { step: 1, learningRate: 0.1 }), T, /options\.learningRate/],
  ['adamStep overlapping arrays', () => { const b = f32(8); fo.adamStep(b.subarray(0, 4), b.subarray(2, 6), f32(4), f32(4), { step: 1 }); }, R, /params and grads .* overlap/],
  ['adamStep the same array twice', () => { const b = f32(4); fo.adamStep(b, f32(4), b, f32(4), { step: 1 }); }, R, /params and expAvg/],
  ['adamStep detached grads', () => fo.adamStep(f32(4), detached(4), f32(4), f32(4), { step: 1 }), R, /for grads but received Float32Array\(0\) \(possibly detached\)/],
  ['sgdStep momentum without buffer', () => fo.sgdStep(f32(2), f32(2), null, { step: 1, momentum: 0.9 }), T, /for momentumBuffer/],
  ['sgdStep buffer wrong length', () => fo.sgdStep(f32(2), f32(2), f32(5), { step: 1, momentum: 0.9 }), R, /for momentumBuffer/],
  ['sgdStep dampening 2', () => fo.sgdStep(f32(2), f32(2), f32(2), { step: 1, momentum: 0.9, dampening: 2 }), R, /for options\.dampening/],
  ['sgdStep nesterov without momentum', () => fo.sgdStep(f32(2), f32(2), null, { step: 1, nesterov: true }), R, /options\.nesterov/],
  ['sgdStep momentum negative', () => fo.sgdStep(f32(2), f32(2), f32(2), { step: 1, momentum: -0.5 }), R, /for options\.momentum/],
  ['sgdStep options an array', () => fo.sgdStep(f32(2), f32(2), null, []), T, /for options but received Array\(0\)/],
  ['sgdStep step bigint', () => fo.sgdStep(f32(2), f32(2), null, { step: 1n }), T, /for options\.step but received 1n/],

  // --- optimizer classes ---------------------------------------------------------------------------
  ['SGD params not an array', () => new fo.SGD(f32(3)), T, /for params but received Float32Array\(3\)/],
  ['SGD params empty', () => new fo.SGD([]), R, /at least one tensor for params/],
  ['SGD params[1] a string', () => new fo.SGD([3, 'x']), T, /for params\[1\]/],
  ['SGD params[0] negative length', () => new fo.SGD([-1]), R, /for params\[0\]/],
  ['SGD params[0] fractional length', () => new fo.SGD([2.5]), R, /for params\[0\]/],
  ['SGD options a number', () => new fo.SGD([3], 5), T, /for options but received 5/],
  ['SGD unknown option', () => new fo.SGD([3], { moment: 0.9 }), T, /options\.moment/],
  ['SGD lr an object', () => new fo.SGD([3], { lr: {} }), T, /for options\.lr/],
  ['Adam threads 0', () => new fo.Adam([3], { threads: 0 }), R, /for options\.threads/],
  ['Adam traceCapacity -1', () => new fo.Adam([3], { traceCapacity: -1 }), R, /for options\.traceCapacity/],
  ['Adam device gpu', () => new fo.Adam([3], { device: 'gpu' }), R, /for options\.device/],
  ['Adam device 7', () => new fo.Adam([3], { device: 7 }), T, /for options\.device/],
  ['AdamW decoupled false', () => new fo.AdamW([3], { decoupled: false }), R, /decoupled/],
  ['AdamW beta1 -0.1', () => new fo.AdamW([3], { beta1: -0.1 }), R, /for options\.beta1/],
  ['setOptions beta2 2', () => adam.setOptions({ beta2: 2 }), R, /for options\.beta2/],
  ['setOptions unknown key', () => adam.setOptions({ momentum: 0.9 }), T, /options\.momentum/],
  ['setOptions threads 300', () => sgd.setOptions({ threads: 300 }), R, /for threads/],
  ['setOptions lr negative', () => sgd.setOptions({ lr: -1 }), R, /for lr/],
  ['AdamW setOptions decoupled false', () => adamw.setOptions({ decoupled: false }), R, /for options\.decoupled/],
  ['lr setter a string', () => { adam.lr = 'fast'; }, T, /for lr but received 'fast'/],
  ['setGrads index out of range', () => adam.setGrads(2, f32(4)), R, /for index but received 2/],
  ['setGrads index a string', () => adam.setGrads('0', f32(4)), T, /for index/],
  ['setGrads wrong length', () => adam.setGrads(0, f32(3)), R, /a Float32Array of length 4 for data but received Float32Array\(3\)/],
  ['setGrads an Array', () => adam.setGrads(0, [1, 2, 3, 4]), T, /for data but received Array\(4\)/],
  ['setGrads detached', () => adam.setGrads(0, detached(4)), R, /for data .*possibly detached/],
  ['setParams a Float64Array', () => adam.setParams(1, new Float64Array(3)), T, /for data/],
  ['readParams out wrong length', () => adam.readParams(0, f32(1)), R, /for out/],
  ['readParams index -1', () => adam.readParams(-1), R, /for index/],
  ['readGrads index NaN', () => adam.readGrads(NaN), R, /for index/],
  ['loadStateDict a string', () => adam.loadStateDict('state'), T, /for state but received 'state'/],
  ['loadStateDict wrong kind', () => sgd.loadStateDict(goodState), R, /for state\.kind/],
  ['save path a number', () => adam.saveSync(42), T, /for path but received 42/],
  ['load path empty', () => adam.loadSync(''), R, /for path/],

  // --- schedules -------------------------------------------------------------------------------------
  ['constant NaN', () => fo.constant(NaN), R, /for value/],
  ['constant a string', () => fo.constant('1'), T, /for value/],
  ['linear steps -1', () => fo.linear({ from: 1, to: 0, steps: -1 }), R, /for options\.steps but received -1/],
  ['linear options missing', () => fo.linear(), T, /options/],
  ['linearDecay peak negative', () => fo.linearDecay({ peak: -1, steps: 10 }), R, /options\.peak/],
  ['cosineDecay warmup > steps', () => fo.cosineDecay({ peak: 1, steps: 10, warmup: 11 }), R, /options\.warmup/],
  ['cosineDecay steps fractional', () => fo.cosineDecay({ peak: 1, steps: 10.5 }), R, /options\.steps/],
  ['cosineDecay unknown option', () => fo.cosineDecay({ peak: 1, steps: 10, warmupSteps: 2 }), T, /options\.warmupSteps/],
  ['rex steps a string', () => fo.rex({ peak: 1, steps: '10' }), T, /options\.steps/],
  ['polynomialDecay power negative', () => fo.polynomialDecay({ peak: 1, steps: 10, power: -1 }), R, /options\.power/],
  ['warmupStableDecay decaySteps > steps', () => fo.warmupStableDecay({ peak: 1, steps: 10, decaySteps: 11 }), R, /for options\.decaySteps/],
  ['warmupStableDecay decay shape bad', () => fo.warmupStableDecay({ peak: 1, steps: 10, decaySteps: 2, decay: 'exp' }), R, /for options\.decay/],
  ['multiStep negative milestone', () => fo.multiStep({ peak: 1, milestones: [5, -2] }), R, /options\.milestones\[1\]/],
  ['exponentialDecay gamma 0', () => fo.exponentialDecay({ peak: 1, gamma: 0, every: 10 }), R, /for options\.gamma/],
  ['exponentialDecay unknown option', () => fo.exponentialDecay({ initial: 1, gamma: 0.5 }), T, /options\.initial/],
  ['oneCycle peak missing', () => fo.oneCycle({ steps: 100 }), T, /options\.peak/],
  ['cosineRestarts period 0', () => fo.cosineRestarts({ peak: 1, period: 0 }), R, /options\.period/],
  ['inverseSqrt warmup -1', () => fo.inverseSqrt({ peak: 1, warmup: -1 }), R, /options\.warmup/],
  ['join boundaries count', () => fo.join([sched, sched], []), R, /boundaries/],
  ['join a non-function', () => fo.join([sched, 3], [5]), T, /schedules\[1\]/],
  ['warmup schedule not a function', () => fo.warmup(0.1, { steps: 5 }), T, /for schedule/],
  ['sampled every 0', () => fo.sampled(sched, 0), R, /for every/],
  ['scale factor NaN', () => fo.scale(sched, NaN), R, /for factor/],
  ['fromArray empty', () => fo.fromArray([]), R, /for values/],
  ['fromArray a string element', () => fo.fromArray([0.1, '0.2']), T, /values\[1\]/],
  ['materialize steps -1', () => fo.materialize(sched, -1), R, /for steps/],
  ['ReduceOnPlateau factor 1', () => new fo.ReduceOnPlateau({ peak: 0.1, factor: 1 }), R, /options\.factor/],
  ['ReduceOnPlateau.observe a string', () => plateau.observe('0.5'), T, /for metric/],

  // --- refinement ------------------------------------------------------------------------------------
  ['refineSchedule norms not an array', () => fo.refineSchedule('x', { method: 'sgd' }), T, /for norms/],
  ['refineSchedule method bad', () => fo.refineSchedule([1, 2, 3], { method: 'rmsprop' }), R, /options\.method/],
  ['refineSchedule negative norm', () => fo.refineSchedule([1, -2, 3], { method: 'sgd' }), R, /norms\[1\]/],
  ['refineSchedule tau 2', () => fo.refineSchedule([1, 2, 3], { method: 'sgd', tau: 2 }), R, /options\.tau/],
  ['medianFilter width 0', () => fo.medianFilter([1, 2, 3], 0), R, /for width/],
  ['refineByBound norms empty', () => fo.refineByBound([], { method: 'adam' }), R, /for norms/],
  ['lastIterateBound lengths differ', () => fo.lastIterateBound([1, 2], [1, 2, 3]), R, /norms|eta/],

  // --- NormTrace -------------------------------------------------------------------------------------
  ['NormTrace kind bad', () => new fo.NormTrace({ kind: 'rmsprop' }), R, /for options\.kind/],
  ['NormTrace no options', () => new fo.NormTrace(), T, /for options/],
  ['NormTrace.push l2 negative', () => trace.push(-1, 1, 0, 0.1), R, /for l2/],
  ['NormTrace.push skipped 2', () => trace.push(1, 1, 2, 0.1), R, /for skipped/],
  ['NormTrace.push lr a string', () => trace.push(1, 1, 0, '0.1'), T, /for lr/],
  ['NormTrace.appendBatch lengths differ', () => trace.appendBatch([1, 2], [1], [0, 0], [0.1, 0.1]), R, /for l1/],
  ['NormTrace.fromJSON wrong format', () => fo.NormTrace.fromJSON({ format: 'x' }), R, /json\.format/],
  ['NormTrace.refine skipped policy bad', () => fo.NormTrace.fromArrays({ kind: 'sgd', l2: [1, 2], l1: [1, 2] }).refine({ skipped: 'keep' }), R, /options\.skipped/],
  ['NormTrace.saveSync path a number', () => trace.saveSync(1), T, /for path/],

  // --- runtime ---------------------------------------------------------------------------------------
  ['setThreads 0', () => fo.setThreads(0), R, /for threads but received 0/],
  ['setThreads a string', () => fo.setThreads('4'), T, /for threads/],
  ['setThreads 1.5', () => fo.setThreads(1.5), R, /for threads/],
  ['setSimd unknown level', () => fo.setSimd('sse9'), R, /for level/],
  ['setSimd a number', () => fo.setSimd(2), T, /for level/],
];

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  process.stdout.write(`${JSON.stringify({ ids: CASES.map((c) => c[0]) })}\n`);
  let n = 0;
  for (const [id, fn, type, re] of CASES) {
    process.stderr.write(`case ${id}\n`);
    let result;
    try {
      const r = fn();
      result = { id, threw: false, returned: typeof r };
    } catch (e) {
      result = { id, threw: true, name: e?.constructor?.name, message: String(e?.message) };
    }
    process.stdout.write(`${JSON.stringify({ ...result, expectedType: type, pattern: re.source })}\n`);
    n++;
  }
  for (const o of [adam, sgd, adamw]) o.dispose();
  // the process is still healthy: a real step after every bad call
  const ok = new fo.Adam([3]);
  ok.step();
  ok.dispose();
  process.stdout.write(`${JSON.stringify({ done: n })}\n`);
}
