import { sh } from '../shell/command.ts';
import { defineFact } from '../model/fact.ts';

/** Whether the running kernel has a feature, and what said so. */
export interface Presence {
  /** unknown: no kernel configuration, module tree or loaded module to tell by. */
  state: 'yes' | 'no' | 'unknown';
  source: string;
}

/** What Docker Swarm needs from the kernel beyond the basics: ESP for encrypted overlays, IPVS for virtual IPs and the routing mesh. */
export interface KernelFeatures {
  release: string;
  esp: Presence;
  ipvs: Presence;
}

// Each feature: its configuration option and its module (IPv4 ESP is esp4; IPVS is ip_vs).
const FEATURES = { esp: { option: 'CONFIG_INET_ESP', module: 'esp4' }, ipvs: { option: 'CONFIG_IP_VS', module: 'ip_vs' } } as const;

/**
 * Read-only: the kernel's own configuration (/proc/config.gz, else Debian's
 * and Ubuntu's /boot/config-RELEASE), the modules loaded (/sys/module), and
 * the module tree (modules.builtin and the .ko files), so nothing is loaded
 * or changed to find out (`modprobe -n` needs kmod, which DSM and a minimal
 * image may lack, and only reads that same tree).
 */
export const kernelFeatures = defineFact(
  'kernel features',
  sh`r=$(uname -r); echo "@@release $r"
opts='^(# )?CONFIG_(INET_ESP|IP_VS)[= ]'
if [ -r /proc/config.gz ]; then echo '@@config /proc/config.gz'; zcat /proc/config.gz 2>/dev/null | grep -E "$opts"
elif [ -r "/boot/config-$r" ]; then echo "@@config /boot/config-$r"; grep -E "$opts" "/boot/config-$r"; fi
echo @@loaded; for m in esp4 ip_vs; do if [ -d "/sys/module/$m" ]; then echo "$m"; fi; done
d=/lib/modules/$r; [ -d "$d" ] || d=/lib/modules
if [ -d "$d" ]; then echo "@@modules $d"; { cat "$d/modules.builtin" 2>/dev/null; find "$d" -name 'esp4.ko*' -o -name 'ip_vs.ko*' 2>/dev/null; } | grep -oE '(esp4|ip_vs)\\.ko' | sort -u; fi
true`,
  (r) => parseKernelFeatures(r.stdout.toString('utf8')),
);

export function parseKernelFeatures(text: string): KernelFeatures {
  let release = '';
  let section = '';
  let configSource = '';
  let modulesDir = '';
  const config: string[] = [];
  const loaded = new Set<string>();
  const modules = new Set<string>();
  for (const line of text.split('\n')) {
    const marker = /^@@(\w+) ?(.*)$/.exec(line);
    if (marker) {
      section = marker[1]!;
      if (section === 'release') release = marker[2]!;
      if (section === 'config') configSource = marker[2]!;
      if (section === 'modules') modulesDir = marker[2]!;
      continue;
    }
    if (!line) continue;
    if (section === 'config') config.push(line);
    if (section === 'loaded') loaded.add(line);
    if (section === 'modules') modules.add(line.replace(/\.ko$/, ''));
  }
  const presence = ({ option, module }: { option: string; module: string }): Presence => {
    if (loaded.has(module)) return { state: 'yes', source: `loaded, /sys/module/${module}` };
    // An empty config section (zcat missing) says nothing; a readable one that lacks the option means the kernel lacks it.
    if (config.length) {
      const set = config.find((l) => l.startsWith(`${option}=`));
      if (set && /=[ym]$/.test(set)) return { state: 'yes', source: `${set} in ${configSource}` };
      return { state: 'no', source: `${option} is not set in ${configSource}` };
    }
    if (modulesDir) return modules.has(module) ? { state: 'yes', source: `${module} in ${modulesDir}` } : { state: 'no', source: `no ${module} module in ${modulesDir}, built in or loadable` };
    return { state: 'unknown', source: 'no kernel configuration (/proc/config.gz, /boot/config-*) or module tree (/lib/modules) to tell by' };
  };
  return { release, esp: presence(FEATURES.esp), ipvs: presence(FEATURES.ipvs) };
}
