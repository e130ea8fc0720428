// The layouts' ops and the blue-green strategy as data: probe output in,
// decision out (pyinfra's operation tests). Their lab behaviour is in
// test/lab/core-edge.test.ts and test/lab/single-server.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ops, Secret, strategies } from '../../lib/index.ts';
import type { Op } from '../../lib/model/op.ts';
import type { Command } from '../../lib/shell/command.ts';
import { scratchRoot } from '../helpers/scratch-root.ts';
import { maskEnvDiff, renderEnv } from '../../lib/ops/compose/env-file.ts';
import { parseComposeState, staleServices } from '../../lib/ops/compose/state.ts';
import { serviceOf } from '../../lib/ops/podman/quadlet.ts';
import { healthGateSchema, judge } from '../../lib/strategies/blue-green.ts';
import { parseEnvFile } from '../../roles/compose-projects/env-file.ts';
import { missingFiles } from '../../roles/compose-projects/index.ts';
import { renderTemplate } from '../../roles/single-server/template.ts';

const decide = (op: Op<unknown, any>, state: unknown) => {
  assert.deepEqual(op.problems, []);
  return op.decide(state);
};
const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const modeOf = (p: string) => (statSync(p).mode & 0o7777).toString(8).padStart(4, '0');
const summary = (d: ReturnType<typeof decide>) => (d.kind === 'change' && d.diff?.kind === 'summary' ? d.diff.lines.join('\n') : '');

test('compose env files: literal quoting, secrets masked in diffs (no digest: issue 27 item 8), never shown', () => {
  assert.equal(renderEnv({ B: 'x y', A: 'plain', C: "it's" }).text, `A=plain\nB='x y'\nC="it's"\n`);
  const pw = new Secret('s3cret-value');
  const values = { USER: 'vibe', PASSWORD: pw };
  const { text, secret } = renderEnv(values);
  assert.equal(secret, true);
  const same = maskEnvDiff(text, text, values);
  assert.ok(!same.after.includes('s3cret-value'));
  assert.equal(same.before, same.after, 'an unchanged secret reads the same on both sides');
  const changed = maskEnvDiff('PASSWORD=other\nUSER=vibe\n', text, values);
  assert.notEqual(changed.before, changed.after, 'a changed secret shows as changed');
  assert.deepEqual(maskEnvDiff('PASSWORD=third\nUSER=vibe\n', text, values), changed, 'and nothing of either value is in what is shown');
});

const psLine = (svc: string, id: string, hash: string, health = '') => JSON.stringify({ Service: svc, ID: id, State: 'running', Health: health, Labels: `com.docker.compose.project=p,com.docker.compose.config-hash=${hash}` });

test('compose.project: ok when files and containers match; only the files that differ, or the stale services, change', () => {
  const compose = 'services:\n  a:\n    image: x:${TAG}\n  b:\n    image: y\n';
  const env = renderEnv({ TAG: '1' }).text;
  const probe = (envText: string, hashB: string) =>
    parseComposeState(
      `@@file compose.yml\n${sha(compose)}\n@@text\n${Buffer.from(compose).toString('base64')}\n@@file .env\n${sha(envText)}\n@@text\n${Buffer.from(envText).toString('base64')}\n@@hash\na h1\nb h2\n@@ps\n${psLine('a', 'c1', 'h1', 'healthy')}\n${psLine('b', 'c2', hashB)}\n`,
    );
  const op = ops.compose.project({ dir: '/opt/p', project: 'p', files: { 'compose.yml': compose }, env: { TAG: '1' } });
  assert.equal(decide(op, probe(env, 'h2')).kind, 'ok');

  const stale = probe(env, 'old');
  assert.deepEqual(staleServices(stale), ['b']);
  const up = decide(op, stale);
  assert.equal(up.kind, 'change');
  assert.match(up.kind === 'change' ? up.msg : '', /^up -d: b$/);

  const changed = decide(op, probe(renderEnv({ TAG: '0' }).text, 'h2'));
  assert.equal(changed.kind, 'change');
  assert.match(changed.kind === 'change' ? changed.msg : '', /^\.env changed; pull and up -d$/);
  assert.match(summary(changed), /--- \/opt\/p\/\.env\n\+\+\+ \/opt\/p\/\.env\n-TAG=\*\*\* \(previous value hidden\)\n\+TAG=1\nservices concerned: a \(changed: TAG\)$/);

  const fresh = decide(op, parseComposeState('@@nodir\n'));
  assert.match(fresh.kind === 'change' ? fresh.msg : '', /compose\.yml, \.env written/);
  assert.match(ops.compose.project({ dir: 'rel', project: 'P', files: {} }).problems.map((p) => p.message).join('; '), /absolute path.*lowercase|lowercase.*absolute path|compose\.yml/);
  assert.match(ops.compose.project({ dir: '/x', project: 'p', files: { 'compose.yml': '' }, envFiles: { '../escape': {} } }).problems[0]!.message, /inside the project directory/);
});

// The quadlet and caddy ops applied as the runner applies them (probe run and
// parsed, decision, its commands in order, stopping at the first failure), by
// dash and by bash, in a scratch root (test/helpers/scratch-root.ts) where
// /etc is writable. Only the programs that cannot run here are stand-ins:
// systemctl, Podman's Quadlet generator and caddy, below.

/**
 * STAND-IN for systemctl (systemctl(1),
 * https://www.freedesktop.org/software/systemd/man/latest/systemctl.html),
 * for what the ops rely on: `is-active U` prints the unit's state (inactive
 * for one never started) and exits 0 only when it is active; `start` and
 * `restart` of a unit systemd does not know fail ("Unit U not found."), else
 * make it active, running the unit file as loaded at the last daemon-reload;
 * `stop` makes it inactive; `daemon-reload` reruns the generators (here
 * Quadlet's into /run/systemd/generator) and reloads the units. A name
 * without a suffix is NAME.service. Units systemd knows: the generated ones
 * and $STATIC_UNITS. Each call is a line of /record/systemctl.
 */
const SYSTEMCTL = `#!/bin/sh
echo "$*" >> /record/systemctl
u=$2; case $u in *.*) ;; ?*) u=$u.service ;; esac
mkdir -p /run/units
case "$1" in
  is-active) s=$(cat "/run/units/$u" 2>/dev/null || echo inactive); echo "$s"; [ "$s" = active ] ;;
  start|restart)
    if [ -f "/run/systemd/loaded/$u" ]; then cp "/run/systemd/loaded/$u" "/run/units/$u.running"
    else case " $STATIC_UNITS " in *" $u "*) : > "/run/units/$u.running" ;; *) echo "Failed to $1 $u: Unit $u not found." >&2; exit 5 ;; esac
    fi
    echo active > "/run/units/$u" ;;
  stop) echo inactive > "/run/units/$u" ;;
  daemon-reload) rm -rf /run/systemd/generator /run/systemd/loaded && mkdir -p /run/systemd/generator \\
      && { /usr/libexec/podman/quadlet /run/systemd/generator || true; } && cp -r /run/systemd/generator /run/systemd/loaded ;;
  *) echo "stand-in systemctl: unexpected $*" >&2; exit 1 ;;
esac
`;

/**
 * STAND-IN for Podman's Quadlet generator (podman-systemd.unit(5),
 * https://docs.podman.io/en/latest/markdown/podman-systemd.unit.5.html):
 * reads NAME.container, .network and .volume from $QUADLET_UNIT_DIRS (else
 * /etc/containers/systemd); a .container needs Image= (or Rootfs=), and a
 * Network=X.network must name a .network it read. With -dryrun it prints
 * the units it would make and exits 1 after an error; as a generator
 * (an output directory first) it writes NAME.service, NAME-network.service,
 * NAME-volume.service there, each made from its unit's text.
 */
const QUADLET = `#!/bin/sh
dirs=\${QUADLET_UNIT_DIRS:-/etc/containers/systemd}
out=; case "$1" in -dryrun|--dryrun) ;; *) out=$1 ;; esac
rc=0
for d in $(printf '%s' "$dirs" | tr ':' ' '); do
  for f in "$d"/*.container "$d"/*.network "$d"/*.volume; do
    [ -f "$f" ] || continue
    n=\${f##*/}
    case $n in
      *.container)
        if ! grep -q '^Image=\\|^Rootfs=' "$f"; then echo "converting \\"$n\\": no Image or Rootfs key specified" >&2; rc=1; continue; fi
        net=$(sed -n 's/^Network=\\(.*\\.network\\)$/\\1/p' "$f")
        if [ -n "$net" ] && [ ! -f "$d/$net" ]; then echo "converting \\"$n\\": requested Quadlet network $net was not found" >&2; rc=1; continue; fi
        s=\${n%.container}.service ;;
      *.network) s=\${n%.network}-network.service ;;
      *.volume) s=\${n%.volume}-volume.service ;;
    esac
    if [ -z "$out" ]; then echo "---$s---"; cat "$f"; else cat "$f" > "$out/$s"; fi
  done
done
exit $rc
`;

/**
 * STAND-IN for the caddy command (https://caddyserver.com/docs/command-line):
 * `validate --adapter caddyfile --config F` exits 1 on a configuration
 * caddy cannot load (here: a reverse_proxy upstream that is not host:port,
 * which caddy refuses as an invalid dial address); `reload --adapter
 * caddyfile --config F` hands F to the running caddy (kept in
 * /run/caddy.loaded) and fails when caddy is not running. Each call is a
 * line of /record/caddy.
 */
const CADDY = `#!/bin/sh
echo "$*" >> /record/caddy
while [ $# -gt 0 ]; do case $1 in --config) f=$2; shift 2 ;; *) a="$a $1"; shift ;; esac; done
case $a in
  " validate --adapter caddyfile")
    bad=$(awk '$1 == "reverse_proxy" { for (i = 2; i <= NF; i++) if ($i !~ /^[^:]+:[0-9]+$/) print $i }' "$f")
    [ -z "$bad" ] || { echo "Error: adapting config using caddyfile: parsing upstream '$bad': invalid dial address" >&2; exit 1; } ;;
  " reload --adapter caddyfile")
    [ "$(cat /run/units/caddy.service 2>/dev/null)" = active ] || { echo "Error: sending configuration to instance: connection refused" >&2; exit 1; }
    cp "$f" /run/caddy.loaded ;;
  *) echo "stand-in caddy: unexpected$a" >&2; exit 1 ;;
esac
`;

const SHELLS = ['dash', 'bash'] as const;

function layoutRoot(units: Record<string, string> = {}) {
  return scratchRoot(
    {
      '/standin/systemctl': { content: SYSTEMCTL, mode: 0o755 },
      '/standin/caddy': { content: CADDY, mode: 0o755 },
      '/usr/libexec/podman/quadlet': { content: QUADLET, mode: 0o755 },
      '/record/systemctl': '',
      '/record/caddy': '',
      ...units,
    },
    { writable: true },
  );
}

/** An op applied by `shell` in the root as the runner applies it; the records of the stand-ins' calls it made. */
function apply(root: ReturnType<typeof layoutRoot>, shell: (typeof SHELLS)[number], op: Op<unknown, any>) {
  assert.deepEqual(op.problems, []);
  const env = { PATH: '/standin:/usr/sbin:/usr/bin:/sbin:/bin', STATIC_UNITS: 'caddy.service' };
  const run = (c: Command) => root.run(shell, c.bytes.toString(), { env, input: c.stdinBytes() });
  for (const record of ['systemctl', 'caddy']) writeFileSync(path.join(root.dir, 'record', record), '');
  const probed = run(op.probe!.command);
  assert.equal(probed.status, 0, `${shell} probe: ${probed.stderr}`);
  const decision = op.decide(op.probe!.parse({ stdout: Buffer.from(probed.stdout), stderr: Buffer.from(probed.stderr), code: 0, durationMs: 0 }));
  let failed: { status: number | null; stderr: string } | undefined;
  for (const c of decision.kind === 'change' ? decision.commands! : []) {
    const r = run(c);
    if (r.status !== 0) {
      failed = r;
      break;
    }
  }
  const record = (name: string) => readFileSync(path.join(root.dir, 'record', name), 'utf8').split('\n').filter(Boolean);
  return { kind: decision.kind, failed, systemctl: record('systemctl').filter((l) => !l.startsWith('is-active')), caddy: record('caddy') };
}

test('podman.quadlet, run: written after the generator accepted it beside the units already there, daemon-reload, then start, or restart on a change', () => {
  assert.equal(serviceOf('postgres.container'), 'postgres.service');
  assert.equal(serviceOf('app.network'), 'app-network.service');
  assert.equal(serviceOf('data.volume'), 'data-volume.service');
  assert.match(ops.podman.quadlet({ name: 'web.service', content: '[Container]\nImage=x\n' }).problems[0]!.message, /Quadlet unit name/);
  const v1 = '[Container]\nImage=r/web:1\nNetwork=app.network\n';
  const v2 = '[Container]\nImage=r/web:2\nNetwork=app.network\n';
  for (const shell of SHELLS) {
    // The network unit the container names is already in the directory: the candidate is checked with it.
    const root = layoutRoot({ '/etc/containers/systemd/app.network': '[Network]\n' });
    const unit = path.join(root.dir, 'etc/containers/systemd/web.container');
    const running = () => readFileSync(path.join(root.dir, 'run/units/web.service.running'), 'utf8');
    const quadlet = (content: string) => ops.podman.quadlet({ name: 'web.container', content });

    const created = apply(root, shell, quadlet(v1));
    assert.equal(created.failed, undefined, created.failed?.stderr);
    assert.equal(readFileSync(unit, 'utf8'), v1);
    assert.equal(modeOf(unit), '0644');
    assert.deepEqual(created.systemctl, ['daemon-reload', 'start web.service'], `${shell}: a service not running is started, after the reload that generates it`);
    assert.equal(running(), v1);
    assert.equal(apply(root, shell, quadlet(v1)).kind, 'ok');

    const updated = apply(root, shell, quadlet(v2));
    assert.equal(updated.failed, undefined, updated.failed?.stderr);
    assert.deepEqual(updated.systemctl, ['daemon-reload', 'restart web.service']);
    assert.equal(running(), v2, `${shell}: the restarted service runs the new unit`);

    // A unit the generator rejects (no Image=, or a network it cannot find) never replaces the old one; nothing is reloaded or restarted.
    for (const bad of ['[Container]\nNetwork=app.network\n', '[Container]\nImage=r/web:3\nNetwork=gone.network\n']) {
      const refused = apply(root, shell, quadlet(bad));
      assert.match(refused.failed?.stderr ?? '', /validation failed/, `${shell}: ${JSON.stringify(bad)} accepted`);
      assert.equal(readFileSync(unit, 'utf8'), v2);
      assert.deepEqual(refused.systemctl, []);
      assert.deepEqual(readdirSync(path.dirname(unit)).sort(), ['app.network', 'web.container'], `${shell}: a temp file was left`);
    }

    // The service failed, the file is right: started, the file untouched.
    writeFileSync(path.join(root.dir, 'run/units/web.service'), 'failed\n');
    const restarted = apply(root, shell, quadlet(v2));
    assert.deepEqual(restarted.systemctl, ['start web.service']);
    assert.equal(readFileSync(path.join(root.dir, 'run/units/web.service'), 'utf8').trim(), 'active');
  }
});

test('caddy.site, run: the Caddyfile from typed values, validated before it replaces the old one, applied with caddy reload, never a restart', () => {
  const site = { address: 'app.example.com', upstreams: ['127.0.0.1:3005'], headers: { 'X-Frame-Options': 'DENY' }, healthPath: '/caddy/health' };
  assert.match(ops.caddy.site({ sites: [{ address: 'a b', upstreams: ['x'] }] }).problems[0]!.message, /one Caddyfile token/);
  const caddyfile = (upstream: string) =>
    `# Managed by rigger (ops.caddy.site): changes here are replaced on the next run.\n{\n\temail ops@example.com\n}\n\napp.example.com {\n\theader {\n\t\tX-Frame-Options "DENY"\n\t}\n\trespond /caddy/health 200\n\treverse_proxy ${upstream}\n}\n`;
  for (const shell of SHELLS) {
    const root = layoutRoot();
    const file = path.join(root.dir, 'etc/caddy/Caddyfile');
    const caddy = (upstream: string) => ops.caddy.site({ sites: [{ ...site, upstreams: [upstream] }], email: 'ops@example.com' });

    // No Caddyfile, no caddy running: written (its directory made), validated as a candidate, caddy started.
    const first = apply(root, shell, caddy('127.0.0.1:3005'));
    assert.equal(first.failed, undefined, first.failed?.stderr);
    assert.equal(readFileSync(file, 'utf8'), caddyfile('127.0.0.1:3005'));
    assert.equal(modeOf(file), '0644');
    assert.equal(first.caddy.length, 1);
    assert.match(first.caddy[0]!, /^validate --adapter caddyfile --config /);
    assert.ok(!first.caddy[0]!.endsWith(' /etc/caddy/Caddyfile'), `${shell}: the candidate is validated, not the live file`);
    assert.deepEqual(first.systemctl, ['start caddy']);
    assert.equal(apply(root, shell, caddy('127.0.0.1:3005')).kind, 'ok');

    // Running, a new upstream: replaced and reloaded into the running caddy, which is not restarted.
    const second = apply(root, shell, caddy('127.0.0.1:3006'));
    assert.equal(second.failed, undefined, second.failed?.stderr);
    assert.equal(readFileSync(file, 'utf8'), caddyfile('127.0.0.1:3006'));
    assert.deepEqual(second.caddy.slice(1), ['reload --adapter caddyfile --config /etc/caddy/Caddyfile']);
    assert.deepEqual(second.systemctl, []);
    assert.equal(readFileSync(path.join(root.dir, 'run/caddy.loaded'), 'utf8'), caddyfile('127.0.0.1:3006'));

    // A configuration caddy refuses: the old file stays, nothing is reloaded, no temp file is left.
    const refused = apply(root, shell, caddy('127.0.0.1:3006:7'));
    assert.match(refused.failed?.stderr ?? '', /validation failed/);
    assert.equal(readFileSync(file, 'utf8'), caddyfile('127.0.0.1:3006'));
    assert.equal(refused.caddy.length, 1, `${shell}: only the validation ran`);
    assert.deepEqual(readdirSync(path.dirname(file)), ['Caddyfile']);
  }
});

test('blue-green: the gate judges status, latency and body; the same version is ok; the plan targets the idle slot', () => {
  const g = healthGateSchema.parse({ url: 'http://127.0.0.1:{port}/api/health', maxLatencyMs: 500, bodyContains: '"db":"ok"' });
  assert.deepEqual(judge('200 0.012\n{"db":"ok"}', g), { ok: true, status: 200, ms: 12 });
  assert.match(judge('503 0.010\n{}', g).why!, /status 503, expected 200/);
  assert.match(judge('200 0.900\n{"db":"ok"}', g).why!, /answered in 900 ms, over the 500 ms bound/);
  assert.match(judge('200 0.010\n{"db":"down"}', g).why!, /body lacks/);
  assert.match(judge('000 2.001\n', g).why!, /status none \(no answer\)/);

  const release = (version: string) =>
    strategies.blueGreen({
      name: 'app',
      version,
      slots: { blue: { port: 3005 }, green: { port: 3006 } },
      start: (slot, port) => ops.command({ argv: ['start', slot, String(port)] }),
      stop: (slot) => ['systemctl', 'stop', `app-${slot}.service`],
      health: { url: 'http://127.0.0.1:{port}/api/health' },
      switch: (slot) => ops.command({ argv: ['switch', slot] }),
      keepOldFor: 3600,
    });
  assert.equal(decide(release('v2'), { live: 'green', version: 'v2' }).kind, 'ok');
  const plan = decide(release('v3'), { live: 'green', version: 'v2' });
  assert.equal(plan.kind, 'change');
  assert.match(summary(plan), /1\. start blue \(v3\) on 3005\n2\. wait 10 s, then GET http:\/\/127\.0\.0\.1:3005\/api\/health: 200 within 500 ms \(4 tries\)\n3\. switch the proxy to blue \(:3005\)\n4\. stop green in 3600 s/);
  assert.match(summary(decide(release('v1'), {})), /1\. start blue \(v1\) on 3005[\s\S]*no previous slot to stop/);
});

test("the layouts' repository files: env files parsed as Compose reads them, errors naming file:line; unit templates refuse an unset name", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-layout-'));
  const env = path.join(dir, '.env.core');
  writeFileSync(env, "# comment\nexport A=1\nB='two words'\nC=\"x\\ty\"\n\n");
  assert.deepEqual(parseEnvFile(env), { A: '1', B: 'two words', C: 'x\ty' });
  writeFileSync(env, 'A=1\nnot an assignment\n');
  assert.throws(() => parseEnvFile(env), (e: Error) => e.message.includes(`${env}:2`) && /expected KEY=VALUE/.test(e.message));
  const spec = { name: 'core', dir: '/opt/core', source: dir, env: {}, env_files: { 'env/.env.core': env, 'env/.env.more': path.join(dir, 'absent') }, env_secrets: {}, files: {}, wait_seconds: 1 };
  assert.deepEqual(missingFiles([spec]), [path.join(dir, 'compose.yml'), path.join(dir, 'absent')]);
  const unit = path.join(dir, 'x.container');
  writeFileSync(unit, '[Container]\nImage=${IMAGE}\nPublishPort=${PORT}:${PORT}\n');
  assert.equal(renderTemplate(unit, { IMAGE: 'r/x:1', PORT: 3005 }), '[Container]\nImage=r/x:1\nPublishPort=3005:3005\n');
  assert.throws(() => renderTemplate(unit, { IMAGE: 'r/x:1' }), (e: Error) => e.message.includes(`${unit}:3`) && e.message.includes('${PORT} has no value'));
});
