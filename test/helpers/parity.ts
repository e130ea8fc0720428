import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { ParityCase } from '../fixtures/parity/file-cases.ts';

/**
 * The Ansible side of the file-edit parity test: the same cases as ansible
 * tasks, run by ansible-core's own ansible-playbook on this machine.
 */

/** rigger's parameter names that Ansible spells differently (docs/ops.md, "Coming from Ansible's lineinfile, blockinfile and copy", has the table). */
export const ANSIBLE_NAMES: Record<string, string> = {
  insertAfter: 'insertafter',
  insertBefore: 'insertbefore',
  firstMatch: 'firstmatch',
  searchString: 'search_string',
  markerBegin: 'marker_begin',
  markerEnd: 'marker_end',
  remoteSrc: 'remote_src',
  directoryMode: 'directory_mode',
  localFollow: 'local_follow',
};

const MODULES = { line: 'lineinfile', block: 'blockinfile', copy: 'copy', copyTree: 'copy' } as const;

/** The case's parameters with its placeholders filled in, for one side. */
export function caseParams(c: ParityCase, dir: string, srcDir: string): Record<string, unknown> {
  const fill = (v: unknown) => (typeof v === 'string' ? v.replaceAll('{dir}', dir).replaceAll('{src}', srcDir) : v);
  const out: Record<string, unknown> = { path: `${dir}/f` };
  for (const [k, v] of Object.entries(c.params)) out[k] = fill(v);
  const sum = typeof out.checksum === 'string' ? /^SHA1:(.+)$/.exec(out.checksum) : null;
  if (sum) out.checksum = createHash('sha1').update(readFileSync(path.join(srcDir, sum[1]!))).digest('hex');
  return out;
}

export function ansibleTask(c: ParityCase, params: Record<string, unknown>): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    const name = k === 'path' && MODULES[c.op] === 'copy' ? 'dest' : (ANSIBLE_NAMES[k] ?? k);
    args[name] = v;
  }
  return { name: c.id, [MODULES[c.op]]: args, ignore_errors: true };
}

/** Lays out a case's directory: the file as it was, and its neighbours. */
export function prepareCase(c: ParityCase, dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const d of c.dirs ?? []) mkdirSync(path.join(dir, d), { recursive: true });
  for (const [name, text] of Object.entries(c.files ?? {})) writeFileSync(path.join(dir, name), text);
  for (const [name, target] of Object.entries(c.links ?? {})) symlinkSync(target, path.join(dir, name));
  if (c.before !== undefined) {
    writeFileSync(path.join(dir, 'f'), c.before);
    chmodSync(path.join(dir, 'f'), Number.parseInt(c.beforeMode ?? '0644', 8));
  }
}

// Ansible names a backup PATH.PID.DATE@TIME~, rigger PATH.DATE@TIME~: both compare as PATH.BACKUP~.
const BACKUP = /(\.\d+)?\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/;

/** Every entry under a directory: kind, mode, bytes or link target. */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, r);
      const st = lstatSync(full);
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      const shown = r.replace(BACKUP, '.BACKUP~');
      if (st.isSymbolicLink()) out.push(`${shown} link -> ${readlinkSync(full)}`);
      else if (st.isDirectory()) {
        out.push(`${shown}/ ${mode}`);
        walk(r);
      } else out.push(`${shown} ${mode} ${JSON.stringify(readFileSync(full, 'latin1'))}`);
    }
  };
  walk('');
  return out.sort();
}

export interface AnsibleOutcome {
  changed: boolean;
  failed: boolean;
  msg: string;
}

/**
 * Runs the tasks with ansible-playbook (local connection, one JSON line per
 * result): one outcome per task name. The tasks are split over two
 * ansible-playbook processes run side by side, as each spends most of its
 * time starting Python for one module after another.
 */
export async function runAnsible(work: string, tasks: Record<string, unknown>[]): Promise<Map<string, AnsibleOutcome>> {
  const half = Math.ceil(tasks.length / 2);
  const parts = await Promise.all([runPlaybook(work, 'a', tasks.slice(0, half)), runPlaybook(work, 'b', tasks.slice(half))]);
  return new Map([...parts[0], ...parts[1]]);
}

async function runPlaybook(work: string, name: string, tasks: Record<string, unknown>[]): Promise<Map<string, AnsibleOutcome>> {
  const playbook = path.join(work, `parity-${name}.yml`);
  writeFileSync(playbook, stringify([{ hosts: 'localhost', gather_facts: false, tasks }]));
  const env = {
    ...process.env,
    ANSIBLE_STDOUT_CALLBACK: 'parity_lines',
    ANSIBLE_CALLBACK_PLUGINS: path.resolve('test/fixtures/parity/callback_plugins'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_LOCALHOST_WARNING: 'false',
    ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
    ANSIBLE_RETRY_FILES_ENABLED: 'false',
    ANSIBLE_HOME: path.join(work, `.ansible-${name}`),
  };
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('ansible-playbook', ['-i', 'localhost,', '-c', 'local', playbook], { env, maxBuffer: 64 * 1024 * 1024 }, (err, out, errOut) => {
      // Failed tasks are ignored, so a non-zero exit means ansible-playbook itself failed.
      if (err) reject(new Error(`ansible-playbook: ${err.message}\n${errOut}\n${out.slice(0, 4000)}`));
      else resolve(out);
    });
  });
  const outcomes = new Map<string, AnsibleOutcome>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const r = JSON.parse(line) as AnsibleOutcome & { task: string };
    outcomes.set(r.task, { changed: r.changed, failed: r.failed, msg: r.msg });
  }
  return outcomes;
}
