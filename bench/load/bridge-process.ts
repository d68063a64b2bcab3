import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** What the bridge under load is set up with. */
export interface BridgeSetup {
  /** The compiled CLI (dist/src/cli.js). */
  cli: string;
  /** A fresh folder for its config, stores and audit database. */
  dir: string;
  homeserverUrl: string;
  caPem: string;
  botUserId: string;
  botPassword: string;
  /** Live calls the bridge admits at once. */
  maxConcurrentCalls: number;
}

/** How long the bridge may take to start (log in, open stores, start its media loops), ms. */
const START_TIMEOUT_MS = 60_000;
/** How long a stop may take before the process is killed, ms (serve itself gives up at 20 s). */
const STOP_TIMEOUT_MS = 30_000;

/**
 * The bridge as it runs in production: `voicebridge serve --config FILE` in its own process,
 * its config written for the load (encrypted rooms required, the echo agent answering at once,
 * no rate limit, room for every call, the admin server on an ephemeral loopback port). Reads its
 * JSON log lines for the admin URL and for when it answered each call.
 */
export class BridgeProcess {
  readonly child: ChildProcess;
  readonly auditPath: string;
  /** The admin server's base URL, from its `admin_listening` log line. */
  adminUrl = '';
  /** Epoch ms of each `call_answered` log line, by call id. */
  readonly answeredAt = new Map<string, number>();
  /** Counts of log events by name, for the report. */
  readonly events = new Map<string, number>();
  /** The last lines of stderr and unparsed stdout, for a failure message. */
  readonly #tail: string[] = [];
  readonly exited: Promise<number>;

  private constructor(child: ChildProcess, auditPath: string) {
    this.child = child;
    this.auditPath = auditPath;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
    });
  }

  /** Writes the config, starts `serve` and resolves once the bridge is ready and its admin up. */
  static async start(setup: BridgeSetup): Promise<BridgeProcess> {
    const caFile = join(setup.dir, 'homeserver-ca.pem');
    writeFileSync(caFile, setup.caPem);
    const configFile = join(setup.dir, 'bridge.toml');
    const auditPath = join(setup.dir, 'audit.db');
    writeFileSync(configFile, configText(setup, caFile, auditPath), { mode: 0o600 });

    const child = spawn(process.execPath, [setup.cli, 'serve', '--config', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const bridge = new BridgeProcess(child, auditPath);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the bridge did not start within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      let readySeen = false;
      const check = (): void => {
        if (readySeen && bridge.adminUrl !== '') {
          clearTimeout(timer);
          resolve();
        }
      };
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        const event = bridge.#onLine(line);
        if (event === 'bridge_ready') readySeen = true;
        check();
      });
      createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) =>
        bridge.#keep(line),
      );
      void bridge.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the bridge exited with ${code} while starting:\n${bridge.tail()}`));
      });
    });
    try {
      await ready;
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return bridge;
  }

  /** The last lines the bridge wrote that were not routine log lines. */
  tail(): string {
    return this.#tail.join('\n');
  }

  /** SIGTERM (serve hangs up, commits its records, exits 0); SIGKILL if it overruns. */
  async stop(): Promise<number> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** The bridge's CPU time so far (user + system), in ms; undefined once it exited. */
  cpuMs(): number | undefined {
    try {
      const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 a second).
      return (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return undefined;
    }
  }

  #onLine(line: string): string | undefined {
    let entry: {
      event?: unknown;
      time?: unknown;
      call_id?: unknown;
      url?: unknown;
      level?: unknown;
    };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      this.#keep(line);
      return undefined;
    }
    const event = typeof entry.event === 'string' ? entry.event : undefined;
    if (event === undefined) return undefined;
    this.events.set(event, (this.events.get(event) ?? 0) + 1);
    if (event === 'admin_listening' && typeof entry.url === 'string') this.adminUrl = entry.url;
    if (
      event === 'call_answered' &&
      typeof entry.call_id === 'string' &&
      typeof entry.time === 'number'
    ) {
      this.answeredAt.set(entry.call_id, entry.time);
    }
    if (typeof entry.level === 'number' && entry.level >= 50) this.#keep(line);
    return event;
  }

  #keep(line: string): void {
    this.#tail.push(line.slice(0, 500));
    if (this.#tail.length > 20) this.#tail.shift();
  }
}

function configText(setup: BridgeSetup, caFile: string, auditPath: string): string {
  const quote = (text: string): string => JSON.stringify(text);
  return `# Written by the load runner for one run.
[voice]
max_concurrent_calls = ${setup.maxConcurrentCalls}
require_e2ee = true
rate_limit_calls = 0
max_call_duration = "1h"
default_token_limit = 100000000
default_duration_limit = "1h"

[voice.ttl]
default_ttl = "10m"
max_ttl = "1h"

[matrix]
homeserver_url = ${quote(setup.homeserverUrl)}
user_id = ${quote(setup.botUserId)}
password = ${quote(setup.botPassword)}
ca_file = ${quote(caFile)}
store_dir = ${quote(join(setup.dir, 'store'))}

[media]
bind_address = "127.0.0.1"

[agent]
kind = "echo"
echo_delay = "0ms"

[audit]
path = ${quote(auditPath)}

[admin]
enabled = true
bind_address = "127.0.0.1"
port = 0

[log]
level = "info"
`;
}
