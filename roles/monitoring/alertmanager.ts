import { stringify } from 'yaml';

export interface AlertmanagerInputs {
  slack?: { channel: string; urlFile: string };
  /** The SMTP password is named by its file only: the configuration never holds it. */
  email?: { to: string[]; from: string; smarthost: string; requireTls: boolean; auth?: { username: string; passwordFile: string } };
  webhooks: string[];
  groupWait: string;
  groupInterval: string;
  repeatInterval: string;
}

/** alertmanager.yml: one route to one receiver, Slack (its URL read from a file), e-mail (its password read from a file) and webhooks, resolved notices on. */
export function renderAlertmanagerConfig(i: AlertmanagerInputs): string {
  const receiver: Record<string, unknown> = { name: 'operators' };
  if (i.slack) {
    receiver.slack_configs = [
      {
        api_url_file: i.slack.urlFile,
        channel: i.slack.channel,
        send_resolved: true,
        title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}',
        text: '{{ range .Alerts }}{{ .Annotations.summary }}: {{ .Annotations.description }}\n{{ end }}',
      },
    ];
  }
  if (i.email) {
    const { to, from, smarthost, requireTls, auth } = i.email;
    receiver.email_configs = to.map((address) => ({
      to: address,
      from,
      smarthost,
      ...(auth ? { auth_username: auth.username, auth_password_file: auth.passwordFile } : {}),
      require_tls: requireTls,
      send_resolved: true,
    }));
  }
  if (i.webhooks.length) receiver.webhook_configs = i.webhooks.map((url) => ({ url, send_resolved: true }));
  const doc = {
    route: { receiver: 'operators', group_by: ['alertname', 'instance'], group_wait: i.groupWait, group_interval: i.groupInterval, repeat_interval: i.repeatInterval },
    receivers: [receiver],
  };
  return `# Written by rigger's monitoring role from the inventory: edit the inventory, not this file.\n${stringify(doc, { lineWidth: 0 })}`;
}
