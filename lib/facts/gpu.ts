import { sh } from '../shell/command.ts';
import { defineFact } from '../model/fact.ts';

export interface GpuInfo {
  present: boolean;
  /** How it was seen: nvidia-smi (driver loaded), lspci (hardware only), or none. */
  source: 'nvidia-smi' | 'lspci' | 'none';
  devices: string[];
  driverVersion?: string;
}

export function parseGpu(text: string): GpuInfo {
  const [smi = '', driver = '', pci = ''] = text.split(/@@(?:driver|lspci)\n/);
  const smiDevices = smi.split('\n').filter((l) => /^GPU \d+:/.test(l));
  if (smiDevices.length > 0) return { present: true, source: 'nvidia-smi', devices: smiDevices, ...(driver.trim() ? { driverVersion: driver.trim().split('\n')[0]! } : {}) };
  const pciDevices = pci.split('\n').filter((l) => /nvidia/i.test(l) && /(VGA|3D|Display)/i.test(l));
  if (pciDevices.length > 0) return { present: true, source: 'lspci', devices: pciDevices };
  return { present: false, source: 'none', devices: [] };
}

/** An NVIDIA GPU: nvidia-smi when the driver is loaded, else lspci, else none. */
export const gpu = defineFact(
  'gpu',
  sh`nvidia-smi -L 2>/dev/null || true; echo @@driver; nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null || true; echo @@lspci; lspci 2>/dev/null || true`,
  (r) => parseGpu(r.stdout.toString()),
);
