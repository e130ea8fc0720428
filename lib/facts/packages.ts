import { sh } from '../shell/command.ts';
import { defineFact, type Fact } from '../model/fact.ts';

const cache = new Map<string, Fact<Map<string, string>>>();

/** Installed versions of packages (absent ones are missing from the map). */
export function packageVersions(names: string[]): Fact<Map<string, string>> {
  const key = [...names].sort().join(' ');
  let f = cache.get(key);
  if (!f) {
    f = defineFact(`package versions ${key}`, sh`dpkg-query -W -f '\${Package}\t\${db:Status-Abbrev}\t\${Version}\n' ${names} 2>/dev/null || true`, (r) => {
      const m = new Map<string, string>();
      for (const line of r.stdout.toString().split('\n')) {
        const [n, status, v] = line.split('\t');
        if (n && status?.startsWith('ii') && v) m.set(n, v);
      }
      return m;
    });
    cache.set(key, f);
  }
  return f;
}

export interface ServiceState {
  active: string;
  enabled: string;
}

const services = new Map<string, Fact<Map<string, ServiceState>>>();

/** Run and enablement state of units. */
export function serviceStates(names: string[]): Fact<Map<string, ServiceState>> {
  const key = [...names].sort().join(' ');
  let f = services.get(key);
  if (!f) {
    f = defineFact(`service states ${key}`, sh`for u in ${names}; do printf '%s\t%s\t%s\n' "$u" "$(systemctl is-active "$u" 2>/dev/null)" "$(systemctl is-enabled "$u" 2>/dev/null)"; done`, (r) => {
      const m = new Map<string, ServiceState>();
      for (const line of r.stdout.toString().split('\n')) {
        const [n, active = '', enabled = ''] = line.split('\t');
        if (n) m.set(n, { active, enabled: enabled || 'not-found' });
      }
      return m;
    });
    services.set(key, f);
  }
  return f;
}
