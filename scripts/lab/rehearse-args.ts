import type { StandinOptions } from './standins.ts';

/**
 * What `lab.ts rehearse ARGS` is asked for: `--model-load SECONDS` sets how
 * long the SGLang stand-in loads (default: the real model's 120 s). The
 * recovery drills pass a short one: they test what comes back, not the
 * load, and each would otherwise wait out the real figure again.
 */
export function parseRehearseArgs(args: readonly string[]): StandinOptions {
  const options: StandinOptions = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg !== '--model-load') throw new Error(`rehearse: unknown argument ${arg} (rehearse [--model-load SECONDS])`);
    const value = args[++i];
    // Whole seconds, at least 1: the stand-in sleeps that long before it listens.
    if (value === undefined || !/^[1-9]\d*$/.test(value)) throw new Error(`rehearse: --model-load takes whole seconds (1 or more), not ${value ?? 'nothing'}`);
    options.modelLoadSeconds = Number(value);
  }
  return options;
}
