import { sh } from '../shell/command.ts';
import { defineFact } from '../model/fact.ts';

export interface SwarmState {
  /** inactive, pending, active, error, locked */
  state: string;
  nodeId: string;
  nodeAddr: string;
  isManager: boolean;
  clusterId: string;
  managers: number;
  nodes: number;
  error: string;
  /** The swarm's node certificate lifetime in seconds (CAConfig.NodeCertExpiry), where a manager reports it. */
  certExpirySeconds?: number;
}

export interface DockerInfo {
  installed: boolean;
  running: boolean;
  serverVersion: string;
  runtimes: string[];
  swarm: SwarmState;
}

const NO_SWARM: SwarmState = { state: 'inactive', nodeId: '', nodeAddr: '', isManager: false, clusterId: '', managers: 0, nodes: 0, error: '' };

export function parseDockerInfo(text: string): DockerInfo {
  const t = text.trim();
  if (t === '@@missing') return { installed: false, running: false, serverVersion: '', runtimes: [], swarm: NO_SWARM };
  const down = { installed: true, running: false, serverVersion: '', runtimes: [], swarm: NO_SWARM };
  // The marker is checked anywhere: an older probe, or a CLI that printed before failing, puts it after the client's JSON.
  if (/(^|[\s}])@@down\s*$/.test(t)) return down;
  const j = JSON.parse(t) as {
    ServerVersion?: string;
    Runtimes?: Record<string, unknown>;
    Swarm?: {
      LocalNodeState?: string;
      NodeID?: string;
      NodeAddr?: string;
      ControlAvailable?: boolean;
      Cluster?: { ID?: string; Spec?: { CAConfig?: { NodeCertExpiry?: number } } } | null;
      Managers?: number;
      Nodes?: number;
      Error?: string;
    };
  };
  // Docker's CLI prints its client half (ServerVersion empty) when the engine does not answer.
  if (!j.ServerVersion) return down;
  const s = j.Swarm ?? {};
  // Nanoseconds (a Go time.Duration); only a manager's info carries the cluster's spec.
  const expiry = s.Cluster?.Spec?.CAConfig?.NodeCertExpiry;
  return {
    installed: true,
    running: true,
    serverVersion: j.ServerVersion ?? '',
    runtimes: Object.keys(j.Runtimes ?? {}).sort(),
    swarm: {
      state: s.LocalNodeState || 'inactive',
      nodeId: s.NodeID ?? '',
      nodeAddr: s.NodeAddr ?? '',
      isManager: s.ControlAvailable === true,
      clusterId: s.Cluster?.ID ?? '',
      managers: s.Managers ?? 0,
      nodes: s.Nodes ?? 0,
      error: s.Error ?? '',
      ...(typeof expiry === 'number' && expiry > 0 ? { certExpirySeconds: Math.round(expiry / 1e9) } : {}),
    },
  };
}

/**
 * Docker engine and swarm state, from one `docker info`. Its output is kept
 * only when it succeeds: with the engine down the CLI still prints its client
 * half as JSON before exiting 1, which must not be glued to the marker.
 */
export const dockerInfo = defineFact(
  'docker info',
  sh`if ! command -v docker >/dev/null; then echo @@missing; exit 0; fi; if out=$(docker info --format '{{json .}}' 2>/dev/null); then printf '%s\n' "$out"; else echo @@down; fi`,
  (r) => parseDockerInfo(r.stdout.toString()),
);

/** Docker's default data root, where a node without Docker (or with its engine down) would keep it. */
export const DEFAULT_DOCKER_ROOT = '/var/lib/docker';

/** The engine's data root from `docker info` (DockerRootDir), or the default when it does not answer. */
export function parseDockerRoot(text: string): string {
  const root = text.trim();
  return root.startsWith('/') ? root : DEFAULT_DOCKER_ROOT;
}

/**
 * Where this node's Docker keeps its data: /var/lib/docker on Debian, but
 * /volume1/@docker on a Synology NAS (Container Manager), or wherever a
 * daemon.json's data-root put it. A program that reads containers' files
 * (Promtail's log files) must look there, not at the default.
 */
export const dockerRoot = defineFact(
  'docker root',
  sh`docker info --format '{{.DockerRootDir}}' 2>/dev/null || true`,
  (r) => parseDockerRoot(r.stdout.toString()),
);
