// A blue-green release of one app on the single server: the new image starts
// on the idle slot (3005 blue, 3006 green), must pass the app's health gate
// (status, latency bound, body), then Caddy switches to it (caddy reload);
// the old slot stops after keep_old_for_seconds. A failed gate stops the new
// slot, blue keeps serving, the webhook is told, and the run fails.
//   npx tsx playbooks/release.ts APP --image REF [-i inventory/single-server.yml] [--check --diff]
import path from 'node:path';
import { definePlay, InputError, ops, quote, runPlaybook, strategies } from 'rigger-ops';
import { caddyOp, liveSlots, readLiveSlots, singleServerDefaults } from '../roles/single-server/index.ts';
import { renderTemplate } from '../roles/single-server/template.ts';

/** Stops a slot's service and takes its unit out of the boot (see stop: below). */
function stopSlotScript(unit: string): string {
  // Quoted, though the app's name is restricted by release_apps' schema: no value reaches a shell unquoted.
  const file = quote(`${ops.podman.QUADLET_DIR}/${unit}.container`).toString('utf8');
  return `systemctl stop ${quote(`${unit}.service`).toString('utf8')}; if grep -q '^\\[Install\\]' ${file}; then sed -i '/^\\[Install\\]/,$d' ${file} && systemctl daemon-reload; fi`;
}

const usage = 'Usage: npx tsx playbooks/release.ts APP --image REF [flags]';

await runPlaybook(
  (opts) => {
    const [app, ...extra] = opts.positionals;
    const image = opts.flags.image;
    if (!app || extra.length) throw new InputError('command line', 'name one app to release (APP --image REF)');
    if (typeof image !== 'string' || !image) throw new InputError('command line', `${app}: give the image to release with --image REF`);
    return [
      definePlay({
        name: `release ${app}`,
        hosts: 'single_server',
        schema: singleServerDefaults,
        tasks: ({ task }) => {
          const live = task({ name: 'live slots', op: readLiveSlots() });
          return [
            live,
            task({
              name: `blue-green release of ${app}`,
              op: (h) => {
                const a = h.vars.release_apps[app];
                if (!a) throw new InputError('command line', `${app}: no such app in release_apps (${Object.keys(h.vars.release_apps).join(', ') || 'none defined'})`);
                const slots = liveSlots(h.result(live)?.stdout ?? '');
                return strategies.blueGreen({
                  name: app,
                  version: image,
                  slots: { blue: { port: a.slots.blue }, green: { port: a.slots.green } },
                  start: (slot, port) => ops.podman.quadlet({ name: `${app}-${slot}.container`, content: renderTemplate(path.resolve(a.unit_template), { ...h.vars.quadlet_vars, APP: app, SLOT: slot, PORT: port, IMAGE: image }) }),
                  // A stopped slot must stay stopped after a reboot: Quadlet makes a
                  // unit's [Install] section into an enablement link at every
                  // daemon-reload (systemctl disable refuses generated units), so the
                  // stop drops that section; the next release into this slot writes
                  // the unit again, whole.
                  stop: (slot) => ['sh', '-c', stopSlotScript(`${app}-${slot}`)],
                  health: a.health,
                  switch: (slot) => caddyOp(h.vars, slots, { [app]: slot }),
                  keepOldFor: a.keep_old_for_seconds,
                  notify: h.vars.release_webhook,
                });
              },
            }),
          ];
        },
      }),
    ];
  },
  { usage, allowPositionals: true, flags: { image: { type: 'string' } } },
);
