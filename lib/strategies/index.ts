export { blueGreen, healthGateSchema } from './blue-green.ts';
export type { BlueGreenOptions, BlueGreenResult, HealthGate, SlotName } from './blue-green.ts';
