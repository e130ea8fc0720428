import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Client as SshClient, ClientChannel, ConnectConfig } from 'ssh2';
import type { Duplex } from 'node:stream';
import type { Command } from '../shell/command.ts';
import { HostKeyError, UnreachableError } from '../shell/errors.ts';
import type { Secret } from '../shell/secret.ts';
import { BecomeHandshake } from './become-handshake.ts';
import { KnownHosts, type HostKeyMode } from './known-hosts.ts';
import { Semaphore } from './semaphore.ts';
import type { ExecOptions, ExecResult, Transport } from './types.ts';
import { sendStdin } from './send-stdin.ts';
import { PAYLOAD_END, wrapCommand } from './wrapper.ts';

// ssh2 is CommonJS: require() skips the ES-module wrapping of its files (see
// shell/zod.ts). Loaded at the first connection, so a run that never connects
// (--list-hosts, a usage error) does not pay for it; its require() then runs
// while other hosts' connections are under way.
let ssh2Client: typeof import('ssh2').Client | undefined;
const newClient = (): SshClient => new (ssh2Client ??= (createRequire(import.meta.url)('ssh2') as typeof import('ssh2')).Client)();
type Client = SshClient;

export interface SshTarget {
  /** The inventory name, used in messages. */
  name: string;
  address: string;
  port: number;
  user: string;
  privateKeyFile?: string;
  password?: Secret;
  /** ProxyJump: reach this host through a bastion. */
  jump?: SshTarget;
}

export interface SshOptions {
  knownHosts: KnownHosts;
  hostKeyMode: HostKeyMode;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** Attempts for connection-level failures; a command's exit status is never retried here. */
  connectAttempts: number;
  /** Below sshd's MaxSessions (10 by default). */
  maxChannels: number;
}

export const defaultSshOptions = (knownHostsFile: string, hostKeyMode: HostKeyMode): SshOptions => ({
  knownHosts: new KnownHosts(knownHostsFile),
  hostKeyMode,
  connectTimeoutMs: 10_000,
  keepaliveIntervalMs: 5_000,
  keepaliveCountMax: 3,
  connectAttempts: 3,
  maxChannels: 8,
});

/** ssh2's own preference order; the host's known key types are moved to the front. */
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

function algorithmsFor(keyType: string): string[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
}

/** One SSH connection per host for the whole run; channels capped and reused. */
export class SshTransport implements Transport {
  readonly host: string;
  #client: Client | undefined;
  #jumpTransport: SshTransport | undefined;
  #connecting: Promise<Client> | undefined;
  #closed = false;
  /** Whether the first command has swept stale temp dirs of killed runs (wrapper.ts). */
  #swept = false;
  readonly #channels: Semaphore;
  readonly #open = new Set<ClientChannel>();
  /** Number of TCP connections made; tests read it to prove connection reuse. */
  connectionsMade = 0;
  /** The first connection's set-up time (--profile). */
  connectMs: number | undefined;

  constructor(
    readonly target: SshTarget,
    readonly options: SshOptions,
  ) {
    this.host = target.name;
    this.#channels = new Semaphore(options.maxChannels);
  }

  async exec(command: Command, options: ExecOptions = {}): Promise<ExecResult> {
    const release = await this.#channels.acquire();
    try {
      for (let attempt = 1; ; attempt++) {
        const client = await this.#connection();
        try {
          return await this.#run(client, command, options);
        } catch (err) {
          // sshd frees a session slot a moment after closing its channel, so
          // an open can be refused transiently; the command never started.
          if (!(err instanceof ChannelOpenError) || attempt >= CHANNEL_OPEN_ATTEMPTS) throw err;
          await new Promise((r) => setTimeout(r, 10 * 2 ** attempt));
        }
      }
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    if (client) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2_000);
        client.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        // Closing the channels first sends EOF to every remote watchdog.
        for (const ch of this.#open) ch.close();
        client.end();
      });
    }
    await this.#jumpTransport?.close();
  }

  /**
   * The handshake runs while the rest of the start (renderer, run events)
   * does. The first command takes this very promise, so a host that cannot
   * be reached is tried once, not once early and again for the command.
   */
  connectEarly(): void {
    if (this.#client || this.#connecting || this.#early) return;
    this.#early = this.#connection();
    this.#early.catch(() => {});
  }

  #early: Promise<Client> | undefined;

  async #connection(): Promise<Client> {
    if (this.#early) {
      const early = this.#early;
      this.#early = undefined;
      return early;
    }
    if (this.#closed) throw new UnreachableError(this.host, 'connection closed');
    if (this.#client) return this.#client;
    this.#connecting ??= this.#connectWithRetries().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connectWithRetries(): Promise<Client> {
    let last: unknown;
    const started = performance.now();
    for (let attempt = 1; attempt <= this.options.connectAttempts; attempt++) {
      try {
        const client = await this.#connectOnce();
        this.#client = client;
        this.connectMs ??= performance.now() - started;
        return client;
      } catch (err) {
        last = err;
        if (err instanceof HostKeyError || this.#closed) throw err;
        if (attempt < this.options.connectAttempts) {
          // Backoff only on failure, never on the success path.
          await new Promise((r) => setTimeout(r, 250 * attempt));
        }
      }
    }
    if (last instanceof UnreachableError) throw last;
    throw new UnreachableError(this.host, (last as Error)?.message ?? String(last));
  }

  async #jumpSocket(): Promise<Duplex | undefined> {
    const jump = this.target.jump;
    if (!jump) return undefined;
    this.#jumpTransport ??= new SshTransport(jump, this.options);
    const jumpClient = await this.#jumpTransport.#connection();
    return new Promise((resolve, reject) => {
      jumpClient.forwardOut('127.0.0.1', 0, this.target.address, this.target.port, (err, stream) => {
        if (err) reject(new UnreachableError(this.host, `ProxyJump through ${jump.name} failed: ${err.message}`));
        else resolve(stream);
      });
    });
  }

  async #connectOnce(): Promise<Client> {
    const { target, options } = this;
    const sock = await this.#jumpSocket();
    const known = options.knownHosts.knownKeyTypes(target.address, target.port);
    const preferred = [...new Set([...known.flatMap(algorithmsFor), ...HOST_KEY_ALGORITHMS])];
    let hostKeyFailure: string | undefined;
    const config: ConnectConfig = {
      host: target.address,
      port: target.port,
      username: target.user,
      readyTimeout: options.connectTimeoutMs,
      keepaliveInterval: options.keepaliveIntervalMs,
      keepaliveCountMax: options.keepaliveCountMax,
      algorithms: { serverHostKey: preferred as never },
      // Runs during key exchange, before any authentication is attempted.
      hostVerifier: (key: Buffer) => {
        const verdict = options.knownHosts.verify(target.address, target.port, key, options.hostKeyMode);
        if (!verdict.ok) hostKeyFailure = verdict.reason;
        return verdict.ok;
      },
    };
    if (sock) config.sock = sock;
    if (target.privateKeyFile) config.privateKey = readFileSync(target.privateKeyFile);
    else if (process.env.SSH_AUTH_SOCK) config.agent = process.env.SSH_AUTH_SOCK;
    if (target.password) config.password = target.password.reveal();

    return new Promise<Client>((resolve, reject) => {
      const client = newClient();
      let settled = false;
      client.once('ready', () => {
        settled = true;
        // Small SSH packets (channel open, exec, EOF) must not wait on Nagle
        // for the peer's delayed ACK: that alone costs ~40 ms per command.
        client.setNoDelay(true);
        this.connectionsMade++;
        resolve(client);
      });
      client.on('error', (err) => {
        if (settled) return;
        settled = true;
        client.end();
        if (hostKeyFailure) reject(new HostKeyError(this.host, hostKeyFailure));
        else reject(new UnreachableError(this.host, `ssh ${target.user}@${target.address}:${target.port}: ${err.message}`));
      });
      client.on('close', () => {
        if (this.#client === client) this.#client = undefined;
        if (!settled) {
          settled = true;
          reject(
            hostKeyFailure
              ? new HostKeyError(this.host, hostKeyFailure)
              : new UnreachableError(this.host, 'connection closed during handshake'),
          );
        }
      });
      client.connect(config);
    });
  }

  #run(client: Client, command: Command, options: ExecOptions): Promise<ExecResult> {
    const payloadLength = command.stdinLength();
    const wrapped = wrapCommand(command.bytes, payloadLength, options.become, !this.#swept);
    this.#swept = true;
    const started = performance.now();
    return new Promise<ExecResult>((resolve, reject) => {
      client.exec(wrapped.bytes as unknown as string, (err, channel) => {
        if (err) {
          reject(new ChannelOpenError(this.host, `cannot open a channel: ${err.message}`));
          return;
        }
        this.#open.add(channel);
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | undefined;
        let rejected = false;
        let sendFailed: Error | undefined;
        const sendPayload = () => {
          if (payloadLength === 0) return;
          // Streamed with backpressure, then the end mark; no EOF: the remote
          // watchdog takes EOF as "the controller is gone". A source that
          // fails (a file that shrank) closes the channel mid-payload, which
          // the wrapper takes as a cut transfer: the command never acts on it.
          sendStdin(channel, command.stdin, PAYLOAD_END).catch((e: unknown) => {
            sendFailed = e instanceof Error ? e : new Error(String(e));
            channel.close();
          });
        };
        const handshake = new BecomeHandshake(
          wrapped.promptMarker,
          wrapped.readyMarker,
          options.become?.password,
          (line) => channel.write(line),
          sendPayload,
          () => {
            rejected = true;
            channel.close();
          },
        );
        if (handshake.ready) sendPayload();
        const sink = options.stdoutTo;
        channel.on('data', (chunk: Buffer) => {
          if (sink) {
            if (!sink.write(chunk)) {
              channel.pause();
              sink.once('drain', () => channel.resume());
            }
            return;
          }
          out.push(chunk);
          options.onStdout?.(chunk);
        });
        channel.stderr.on('data', (chunk: Buffer) => {
          const visible = handshake.feed(chunk);
          if (visible.length === 0) return;
          errOut.push(visible);
          options.onStderr?.(visible);
        });
        channel.on('exit', (exitCode: number | null, signal?: string) => {
          code = exitCode ?? (signal ? 128 + signalNumber(signal) : 255);
          // The command is done: closing our side lets the watchdog exit too.
          channel.end();
        });
        channel.on('close', () => {
          this.#open.delete(channel);
          if (rejected) {
            resolve({
              stdout: Buffer.alloc(0),
              stderr: Buffer.from(`sudo: the become password was refused for ${options.become?.user ?? 'root'} on ${this.host}\n`),
              code: 1,
              durationMs: performance.now() - started,
            });
            return;
          }
          if (sendFailed) {
            reject(sendFailed);
            return;
          }
          if (code === undefined) {
            reject(new UnreachableError(this.host, 'connection lost while a command was running'));
            return;
          }
          if (!handshake.ready) errOut.push(handshake.leftover());
          resolve({
            stdout: Buffer.concat(out),
            stderr: Buffer.concat(errOut),
            code,
            durationMs: performance.now() - started,
          });
        });
      });
    });
  }
}

const CHANNEL_OPEN_ATTEMPTS = 6;

/** The server refused a new channel; nothing ran, so it is safe to try again. */
class ChannelOpenError extends UnreachableError {}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, PIPE: 13, TERM: 15 };
function signalNumber(signal: string): number {
  return SIGNALS[signal.replace(/^SIG/, '')] ?? 0;
}
