/**
 * ReduceOnPlateau against hand-derived scenarios and against a transcription of PyTorch's
 * ReduceLROnPlateau.step() (torch/optim/lr_scheduler.py) on random metric sequences.
 */
import { describe, expect, it } from 'vitest';
import { ReduceOnPlateau, type ReduceOnPlateauOptions } from '../src/schedules/index.js';
import { mulberry32 as rng } from '../src/random.js';

/** PyTorch ReduceLROnPlateau, one param group, transcribed in its own shape. */
class TorchPlateau {
  lr: number;
  best: number;
  num_bad_epochs = 0;
  cooldown_counter = 0;
  last_epoch = 0;
  constructor(
    lr: number,
    readonly mode: 'min' | 'max' = 'min',
    readonly factor = 0.1,
    readonly patience = 10,
    readonly threshold = 1e-4,
    readonly threshold_mode: 'rel' | 'abs' = 'rel',
    readonly cooldown = 0,
    readonly min_lr = 0,
    readonly eps = 1e-8,
  ) {
    this.lr = lr;
    this.best = mode === 'min' ? Infinity : -Infinity; // mode_worse
  }
  is_better(a: number, best: number): boolean {
    if (this.mode === 'min' && this.threshold_mode === 'rel') return a < best * (1.0 - this.threshold);
    if (this.mode === 'min' && this.threshold_mode === 'abs') return a < best - this.threshold;
    if (this.mode === 'max' && this.threshold_mode === 'rel') return a > best * (this.threshold + 1.0);
    return a > best + this.threshold;
  }
  step(metrics: number): void {
    const current = metrics;
    this.last_epoch = this.last_epoch + 1;
    if (this.is_better(current, this.best)) {
      this.best = current;
      this.num_bad_epochs = 0;
    } else {
      this.num_bad_epochs += 1;
    }
    if (this.cooldown_counter > 0) {
      this.cooldown_counter -= 1;
      this.num_bad_epochs = 0;
    }
    if (this.num_bad_epochs > this.patience) {
      const old_lr = this.lr;
      const new_lr = Math.max(old_lr * this.factor, this.min_lr);
      if (old_lr - new_lr > this.eps) this.lr = new_lr;
      this.cooldown_counter = this.cooldown;
      this.num_bad_epochs = 0;
    }
  }
}


describe('ReduceOnPlateau', () => {
  it('patience 0 (the PyTorch docstring example): first observation is the baseline, each worse one reduces', () => {
    const p = new ReduceOnPlateau({ peak: 1, factor: 0.5, patience: 0 });
    expect([1, 2, 3, 0.5, 0.5].map((m) => p.observe(m))).toEqual([1, 0.5, 0.25, 0.25, 0.125]);
  });

  it('patience 2, cooldown 2 on a flat metric', () => {
    const p = new ReduceOnPlateau({ peak: 1, patience: 2, cooldown: 2 });
    const got = Array.from({ length: 9 }, () => p.observe(1));
    expect(got.map((v) => +v.toPrecision(12))).toEqual([1, 1, 1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.01]);
  });

  it('defaults: factor 0.1, patience 10, rel threshold 1e-4', () => {
    const p = new ReduceOnPlateau({ peak: 1 });
    expect(p.mode).toBe('min');
    expect([p.factor, p.patience, p.threshold, p.cooldown, p.minLr, p.eps]).toEqual([0.1, 10, 1e-4, 0, 0, 1e-8]);
    expect(p.thresholdMode).toBe('rel');
    p.observe(1);
    for (let i = 0; i < 10; i++) expect(p.observe(0.99995)).toBe(1); // not 1e-4 better
    expect(p.observe(0.99995)).toBeCloseTo(0.1, 15);
  });

  it('thresholds: rel vs abs, min vs max', () => {
    const rel = new ReduceOnPlateau({ peak: 1, patience: 0, threshold: 0.1 });
    rel.observe(1);
    expect(rel.observe(0.95)).toBeCloseTo(0.1, 15); // needs < 0.9
    const abs = new ReduceOnPlateau({ peak: 1, patience: 0, threshold: 0.1, thresholdMode: 'abs' });
    abs.observe(10);
    expect(abs.observe(9.95)).toBeCloseTo(0.1, 15); // needs < 9.9
    expect(abs.best).toBe(10);
    const max = new ReduceOnPlateau({ peak: 1, patience: 0, mode: 'max', threshold: 0 });
    max.observe(0.5);
    expect(max.observe(0.6)).toBe(1);
    expect(max.best).toBe(0.6);
    expect(max.observe(0.6)).toBeCloseTo(0.1, 15);
  });

  it('minLr floors the value; a change below eps is skipped', () => {
    const p = new ReduceOnPlateau({ peak: 1, factor: 0.5, patience: 0, minLr: 0.3 });
    p.observe(1);
    expect([2, 2, 2].map((m) => p.observe(m))).toEqual([0.5, 0.3, 0.3]);
    const tiny = new ReduceOnPlateau({ peak: 1e-8, factor: 0.5, patience: 0 });
    tiny.observe(1);
    expect(tiny.observe(2)).toBe(1e-8);
  });

  it('NaN metrics are never improvements; state getters follow PyTorch', () => {
    const p = new ReduceOnPlateau({ peak: 1, patience: 1, cooldown: 3 });
    expect(p.best).toBe(Infinity);
    p.observe(NaN);
    expect(p.best).toBe(Infinity);
    expect(p.numBadEpochs).toBe(1);
    p.observe(NaN);
    expect(p.value).toBeCloseTo(0.1, 15);
    expect(p.cooldownCounter).toBe(3);
    expect(p.inCooldown).toBe(true);
    expect(p.lastEpoch).toBe(2);
  });

  it('schedule reads the current value whatever the step', () => {
    const p = new ReduceOnPlateau({ peak: 0.5, patience: 0 });
    const s = p.schedule;
    expect(s(0)).toBe(0.5);
    p.observe(1);
    p.observe(2);
    expect(s(123)).toBeCloseTo(0.05, 15);
    expect(s(NaN)).toBeNaN();
    expect(p.schedule).toBe(s);
  });

  it('matches PyTorch step() on random metric sequences, every option combination', () => {
    const r = rng(1234);
    let cases = 0;
    for (const mode of ['min', 'max'] as const) {
      for (const thresholdMode of ['rel', 'abs'] as const) {
        for (const [patience, cooldown] of [[0, 0], [3, 0], [2, 4], [10, 1]]) {
          for (const [threshold, minLr, eps, factor] of [[1e-4, 0, 1e-8, 0.1], [0.05, 1e-3, 1e-8, 0.5], [0, 0.02, 0.01, 0.9]]) {
            const options: ReduceOnPlateauOptions = { peak: 0.1, mode, factor, patience, threshold, thresholdMode, cooldown, minLr, eps };
            const ours = new ReduceOnPlateau(options);
            const ref = new TorchPlateau(0.1, mode, factor, patience, threshold, thresholdMode, cooldown, minLr, eps);
            let level = 1;
            for (let i = 0; i < 400; i++) {
              // a noisy metric that mostly plateaus, sometimes improves, sometimes is negative
              level += (mode === 'min' ? -1 : 1) * (r() < 0.2 ? r() * 0.1 : 0);
              const metric = level + (r() - 0.5) * 0.02 - (r() < 0.05 ? 2 : 0);
              ref.step(metric);
              expect(ours.observe(metric)).toBe(ref.lr);
              expect(ours.best).toBe(ref.best);
              expect(ours.numBadEpochs).toBe(ref.num_bad_epochs);
              expect(ours.cooldownCounter).toBe(ref.cooldown_counter);
            }
            cases++;
          }
        }
      }
    }
    expect(cases).toBe(48);
  });
});
