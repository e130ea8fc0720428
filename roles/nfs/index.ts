import { defineRole, handler, ops, type HostContext, z } from 'rigger-ops';
import { unlessDsm } from '../common.ts';

export const nfsDefaults = z.object({
  /** The group whose hosts export, and the group whose hosts mount. */
  nfs_server_group: z.string().default('data_nodes'),
  nfs_client_group: z.string().default('ai_nodes'),
  nfs_export_path: z.string().startsWith('/').default('/volume1/ai-models'),
  /** Who may mount: a host, network (192.168.3.0/24) or *. */
  nfs_export_clients: z.string().default('*'),
  nfs_export_options: z.string().default('rw,sync,no_subtree_check,root_squash'),
  /** false: write the exports file only (no NFS server package or service): the lab, whose kernel has no NFS. */
  nfs_server_enabled: z.boolean().default(true),
  nfs_mount_path: z.string().startsWith('/').default('/mnt/ai-models'),
  /** Default: the first server host's address and the export path. */
  nfs_mount_source: z.string().optional(),
  nfs_mount_fstype: z.string().default('nfs'),
  nfs_mount_opts: z.string().default('defaults,_netdev,nofail'),
});

type Vars = z.output<typeof nfsDefaults>;

export const EXPORTS_FILE = '/etc/exports.d/rigger.exports';

const isServer = (h: HostContext<Vars>) => h.groups.includes(h.vars.nfs_server_group);
const DSM_NFS = "no apt; the share, its NFS permission and the NFS service are set in DSM (Control Panel > Shared Folder, File Services; preflight checks them)";

const isClient = (h: HostContext<Vars>) => h.groups.includes(h.vars.nfs_client_group);
const realNfs = (h: HostContext<Vars>) => h.vars.nfs_server_enabled;

function mountSource(h: HostContext<Vars>): string {
  if (h.vars.nfs_mount_source) return h.vars.nfs_mount_source;
  const server = h.groupHosts(h.vars.nfs_server_group)[0];
  if (!server) throw new Error(`no host in group ${h.vars.nfs_server_group} to mount ${h.vars.nfs_export_path} from`);
  const vars = h.hostVars(server);
  return `${String(vars.ansible_host ?? server)}:${h.vars.nfs_export_path}`;
}

const reloadExports = handler({
  name: 'reload NFS exports',
  when: (h) => h.allVars.nfs_server_enabled !== false,
  whenReason: 'nfs_server_enabled is false',
  op: ops.command({ argv: ['exportfs', '-ra'] }),
});

/** NFS: the export on the data node, the mount (fstab entry and live mount) on the AI node. */
export const nfs = defineRole({
  name: 'nfs',
  defaults: nfsDefaults,
  build: ({ task }) => {
    const server = { when: isServer, whenReason: (h: HostContext<Vars>) => `not in ${h.vars.nfs_server_group}` };
    const serverPackages = { when: (h: HostContext<Vars>) => isServer(h) && realNfs(h), whenReason: (h: HostContext<Vars>) => (isServer(h) ? 'nfs_server_enabled is false' : `not in ${h.vars.nfs_server_group}`) };
    const client = { when: isClient, whenReason: (h: HostContext<Vars>) => `not in ${h.vars.nfs_client_group}` };
    return {
      tasks: [
        task({ name: 'NFS server package', ...unlessDsm(DSM_NFS, serverPackages), op: ops.apt.packages({ names: ['nfs-kernel-server'], updateCache: true }) }),
        task({ name: 'exported directory', ...unlessDsm(DSM_NFS, server), op: (h) => ops.file({ path: h.vars.nfs_export_path, state: 'directory', mode: '0755' }) }),
        task({ name: 'exports.d', ...unlessDsm(DSM_NFS, server), op: ops.file({ path: '/etc/exports.d', state: 'directory', mode: '0755' }) }),
        task({
          name: 'export',
          ...unlessDsm(DSM_NFS, server),
          op: (h) => ops.copy({ path: EXPORTS_FILE, content: `# Managed by rigger\n${h.vars.nfs_export_path} ${h.vars.nfs_export_clients}(${h.vars.nfs_export_options})\n`, mode: '0644' }),
          notify: [reloadExports],
        }),
        task({ name: 'NFS server running', ...unlessDsm(DSM_NFS, serverPackages), op: ops.systemd.service({ name: 'nfs-server', state: 'started', enabled: true }) }),
        task({
          name: 'NFS client package',
          when: (h) => isClient(h) && h.vars.nfs_mount_fstype.startsWith('nfs'),
          whenReason: (h) => (isClient(h) ? `the mount is ${h.vars.nfs_mount_fstype}, not NFS` : `not in ${h.vars.nfs_client_group}`),
          op: ops.apt.packages({ names: ['nfs-common'], updateCache: true }),
        }),
        task({
          name: 'bind source (stand-in for the export)',
          when: (h) => isClient(h) && h.vars.nfs_mount_opts.split(',').includes('bind'),
          whenReason: 'not a bind mount',
          op: (h) => ops.file({ path: mountSource(h), state: 'directory', mode: '0755' }),
        }),
        task({ name: 'mount point', ...client, op: (h) => ops.file({ path: h.vars.nfs_mount_path, state: 'directory', mode: '0755' }) }),
        task({
          name: 'mount',
          ...client,
          op: (h) => ops.mount({ path: h.vars.nfs_mount_path, src: mountSource(h), fstype: h.vars.nfs_mount_fstype, opts: h.vars.nfs_mount_opts, state: 'mounted' }),
        }),
      ],
      handlers: [reloadExports],
    };
  },
});
