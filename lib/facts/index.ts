export { osRelease, arch, initSystem, freeDisk, mounts } from './system.ts';
export type { OsRelease, Arch, DiskSpace, MountInfo } from './system.ts';
export { packageVersions, serviceStates } from './packages.ts';
export { gpu } from './gpu.ts';
export type { GpuInfo } from './gpu.ts';
export { dockerInfo } from './docker.ts';
export type { DockerInfo, SwarmState } from './docker.ts';
export { dsm, dsmSide } from './dsm.ts';
export type { DsmInfo, DsmSide } from './dsm.ts';
