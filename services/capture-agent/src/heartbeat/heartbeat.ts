import type { Logger } from '@framecast/logging';
import type { AgentHeartbeat, CameraReport } from '@framecast/protocol';

export interface RegistryHeartbeatOptions {
  /** Registry base URL, without /api. */
  url: string;
  agentId: string;
  agentKey?: string | undefined;
  intervalMs: number;
  version: string;
  reports: () => CameraReport[];
  logger: Logger;
}

type State = 'starting' | 'ok' | 'unreachable' | 'refused';

/**
 * Sends the agent's heartbeat every `intervalMs`. It is never on the frame path: a registry that
 * is down, slow or refusing changes nothing about publishing. Failures are logged once per change
 * of state (unreachable, refused with a reason, ok again), not once per beat. One heartbeat at a
 * time, each bounded by a timeout shorter than the interval.
 */
export class RegistryHeartbeat {
  private state: State = 'starting';
  private lastProblem = '';
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  sent = 0;
  failed = 0;

  private readonly opts: RegistryHeartbeatOptions;

  constructor(opts: RegistryHeartbeatOptions) {
    this.opts = opts;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.beat(), this.opts.intervalMs);
    this.timer.unref();
    void this.beat();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  beat(): Promise<void> {
    this.inFlight ??= this.send().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async send(): Promise<void> {
    const { url, agentId, agentKey, intervalMs, version } = this.opts;
    const body: AgentHeartbeat = { cameras: this.opts.reports(), intervalMs, version };
    try {
      const res = await fetch(`${url}/api/agents/${encodeURIComponent(agentId)}/heartbeat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(agentKey ? { authorization: `Bearer ${agentKey}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(Math.min(intervalMs, 5_000)),
      });
      const text = await res.text();
      if (res.ok) {
        this.sent++;
        return this.enter('ok', '');
      }
      this.failed++;
      // 4xx: the registry understood and said no (bad key, room not allowed); 5xx: it is unwell.
      if (res.status >= 400 && res.status < 500) return this.enter('refused', `HTTP ${res.status}: ${text.slice(0, 300)}`);
      // A 503 names its cause (store_unavailable: "Redis refuses writes (OOM …)"); keep it in the line.
      return this.enter('unreachable', `HTTP ${res.status}${errorOf(text)}`);
    } catch (err) {
      this.failed++;
      const cause = err instanceof Error ? (err.name === 'TimeoutError' ? 'timed out' : String(err.cause ?? err.message)) : String(err);
      return this.enter('unreachable', cause);
    }
  }

  private enter(state: State, problem: string): void {
    const changed = state !== this.state || (state === 'refused' && problem !== this.lastProblem);
    const before = this.state;
    this.state = state;
    this.lastProblem = problem;
    if (!changed) return;
    const log = this.opts.logger;
    const ctx = { registry: this.opts.url, agentId: this.opts.agentId };
    if (state === 'ok') log.info(ctx, before === 'starting' ? 'registry heartbeats started' : 'registry heartbeats ok again');
    else if (state === 'refused') log.error({ ...ctx, problem }, 'registry refused the heartbeat (check FRAMECAST_AGENT_KEY and its rooms); frames are still published');
    else log.warn({ ...ctx, problem }, 'registry unreachable: heartbeats failing, frames are still published');
  }
}

/** ": <error>: <message>" of a registry error body, or '' when the body is not one. */
function errorOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    return typeof body.error === 'string' ? `: ${body.error}${typeof body.message === 'string' ? `: ${body.message.slice(0, 300)}` : ''}` : '';
  } catch {
    return '';
  }
}
