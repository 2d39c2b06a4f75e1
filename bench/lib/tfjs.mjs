/**
 * Lazy loading of TensorFlow.js and its WASM backend (both optional: a missing package turns
 * its contenders into "unavailable" rows), and switching between the two backends.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);
let loaded;

/**
 * Loads @tensorflow/tfjs (and @tensorflow/tfjs-backend-wasm when present) once. Returns
 * { tf, wasmError, versions }, or { error } when tfjs itself cannot be loaded.
 *
 * note: production mode (tf.enableProdMode) is switched on for fairness: it skips tfjs's debug
 * checks, and it silences the "install tfjs-node" notice, which the benchmark repeats in its
 * notes instead (tfjs-node is a native TensorFlow build, out of scope here: the peers are the
 * pure-JS CPU backend and the WASM backend).
 */
export async function loadTfjs() {
  if (loaded) return loaded;
  try {
    const tf = await import('@tensorflow/tfjs');
    tf.enableProdMode();
    const versions = { tfjs: tf.version?.tfjs ?? tf.version_core };
    let wasmError = null;
    try {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
      wasm.setWasmPaths(`${dir}/`);
      versions.wasm = wasm.version_wasm;
    } catch (e) {
      wasmError = `@tensorflow/tfjs-backend-wasm could not be loaded (${e.message.split('\n')[0]})`;
    }
    loaded = { tf, wasmError, versions, features: {} };
  } catch (e) {
    loaded = { error: `@tensorflow/tfjs could not be loaded (${e.message.split('\n')[0]})` };
  }
  return loaded;
}

/** Makes `name` ('cpu' | 'wasm') the active backend (cheap once initialised). */
export async function useBackend(t, name) {
  if (t.tf.getBackend() === name) return;
  const ok = await t.tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend '${name}' failed to initialise`);
  await t.tf.ready();
  if (name === 'wasm' && t.features.wasm === undefined) {
    t.features.wasm = {
      simd: await t.tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
      threads: await t.tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    };
  }
}
