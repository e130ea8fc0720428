/**
 * One workload spec, from which the rigger playbook, the Ansible playbook and
 * the floor's scripts are all generated, so every tool does the same work.
 * Task i belongs to group g = floor(i / 7) and does kind i % 7 of:
 * directory, copy, line in file, symlink, mode change, command with creates,
 * template.
 */
export const BENCH_ROOT = '/srv/bench';

export type Kind = 'directory' | 'copy' | 'line' | 'symlink' | 'mode' | 'command' | 'template';
const KINDS: Kind[] = ['directory', 'copy', 'line', 'symlink', 'mode', 'command', 'template'];

export interface Item {
  index: number;
  group: number;
  kind: Kind;
  dir: string;
}

export function workload(tasks: number): Item[] {
  return Array.from({ length: tasks }, (_, index) => {
    const group = Math.floor(index / KINDS.length);
    return { index, group, kind: KINDS[index % KINDS.length]!, dir: `${BENCH_ROOT}/g${group}` };
  });
}

export const copyContent = (g: number) => `content ${g}\n`;
export const lineText = (g: number) => `key${g}=value${g}`;
export const templateText = (host: string, g: number) => `name=${host} index=${g}\n`;

/**
 * The ops the rigger playbook needs: the package's (the benchmark) or the
 * source tree's (remote-cost.ts), which TypeScript sees as different types,
 * hence the loose op type here; each caller's task() still checks its own.
 */
export interface WorkloadOps {
  file(p: { path: string; state: 'directory' | 'link' | 'file'; src?: string; mode?: string }): unknown;
  copy(p: { path: string; content: string }): unknown;
  line(p: { path: string; line: string; create: boolean }): unknown;
  command(p: { argv: string[]; creates: string }): unknown;
  template(p: { path: string; template: any; vars: { host: string; group: number } }): unknown;
}

/** Each item's task for the rigger playbook, under `root` (BENCH_ROOT on the benchmark's hosts). */
export function workloadTasks<T>(tasks: number, ops: WorkloadOps, template: unknown, task: (t: { name: string; op: any }) => T, root = BENCH_ROOT): T[] {
  return workload(tasks).map((it) => {
    const d = it.dir.replace(BENCH_ROOT, root);
    const name = `t${it.index} ${it.kind}`;
    switch (it.kind) {
      case 'directory':
        return task({ name, op: ops.file({ path: d, state: 'directory' }) });
      case 'copy':
        return task({ name, op: ops.copy({ path: `${d}/c.txt`, content: copyContent(it.group) }) });
      case 'line':
        return task({ name, op: ops.line({ path: `${d}/lines.txt`, line: lineText(it.group), create: true }) });
      case 'symlink':
        return task({ name, op: ops.file({ path: `${d}/link`, state: 'link', src: '/etc/hostname' }) });
      case 'mode':
        return task({ name, op: ops.file({ path: `${d}/c.txt`, state: 'file', mode: '0600' }) });
      case 'command':
        return task({ name, op: ops.command({ argv: ['touch', `${d}/cmd.done`], creates: `${d}/cmd.done` }) });
      case 'template':
        return task({ name, op: (h: { name: string }) => ops.template({ path: `${d}/t.conf`, template, vars: { host: h.name, group: it.group } }) });
    }
  });
}

/** The Ansible playbook for the same items (tuned settings live in ansible.cfg). */
export function ansiblePlaybook(tasks: number, templateFile: string): string {
  const lines = ['- hosts: all', '  gather_facts: false', '  tasks:'];
  for (const it of workload(tasks)) {
    const d = it.dir;
    switch (it.kind) {
      case 'directory':
        lines.push('    - file:', `        path: ${d}`, '        state: directory');
        break;
      case 'copy':
        lines.push('    - copy:', `        dest: ${d}/c.txt`, `        content: ${JSON.stringify(copyContent(it.group))}`);
        break;
      case 'line':
        lines.push('    - lineinfile:', `        path: ${d}/lines.txt`, `        line: ${JSON.stringify(lineText(it.group))}`, '        create: true');
        break;
      case 'symlink':
        lines.push('    - file:', '        src: /etc/hostname', `        dest: ${d}/link`, '        state: link');
        break;
      case 'mode':
        lines.push('    - file:', `        path: ${d}/c.txt`, '        mode: "0600"', '        state: file');
        break;
      case 'command':
        lines.push(`    - command: touch ${d}/cmd.done`, '      args:', `        creates: ${d}/cmd.done`);
        break;
      case 'template':
        lines.push('    - template:', `        src: ${templateFile}`, `        dest: ${d}/t.conf`, '      vars:', `        idx: ${it.group}`);
        break;
    }
  }
  return lines.join('\n') + '\n';
}

/** The Jinja template matching templateText(). */
export const ANSIBLE_TEMPLATE = 'name={{ inventory_hostname }} index={{ idx }}\n';

/** The floor's cold run: all the work as one shell script, one exec per host. */
export function convergeScript(tasks: number, host: string): string {
  const out = ['set -e', 'umask 022'];
  for (const it of workload(tasks)) {
    const d = it.dir;
    switch (it.kind) {
      case 'directory':
        out.push(`mkdir -p ${d}`);
        break;
      case 'copy':
        out.push(`printf '%s' '${copyContent(it.group)}' > ${d}/c.txt`);
        break;
      case 'line':
        out.push(`grep -qxF '${lineText(it.group)}' ${d}/lines.txt 2>/dev/null || echo '${lineText(it.group)}' >> ${d}/lines.txt`);
        break;
      case 'symlink':
        out.push(`ln -sfn /etc/hostname ${d}/link`);
        break;
      case 'mode':
        out.push(`chmod 0600 ${d}/c.txt`);
        break;
      case 'command':
        out.push(`[ -e ${d}/cmd.done ] || touch ${d}/cmd.done`);
        break;
      case 'template':
        out.push(`printf '%s' '${templateText(host, it.group)}' > ${d}/t.conf`);
        break;
    }
  }
  return out.join('\n') + '\n';
}

/** The floor's no-op run: read the state of every item, one exec per host. */
export function probeScript(tasks: number): string {
  const paths = new Set<string>();
  for (const it of workload(tasks)) {
    const d = it.dir;
    const p = { directory: d, copy: `${d}/c.txt`, line: `${d}/lines.txt`, symlink: `${d}/link`, mode: `${d}/c.txt`, command: `${d}/cmd.done`, template: `${d}/t.conf` }[it.kind];
    paths.add(p);
  }
  return `for p in ${[...paths].join(' ')}; do stat -c '%F|%a|%U|%G|%s' -- "$p"; [ -f "$p" ] && sha256sum -- "$p"; [ -L "$p" ] && readlink -- "$p"; done; true\n`;
}

/** What every tool must leave behind, per host: paths, kinds, modes, owners, link targets and file contents. */
export const TREE_HASH = `cd ${BENCH_ROOT} 2>/dev/null || { echo empty; exit 0; }; { find . -printf '%p %y %m %U %G %l\\n' | sort; find . -type f -print0 | sort -z | xargs -0 -r sha256sum; } | sha256sum | cut -c1-16`;
