import { RedisFrameBus, RedisProblemLog, redisTargetOf } from '@framecast/bus';
import { configOrExit } from '@framecast/config';
import { printVersionAndExit, runService, type StartedService } from '@framecast/lifecycle';
import { createLogger, type Logger } from '@framecast/logging';
import { AGENT_VERSION, startCaptureAgent } from './agent.ts';
import { loadAgentConfigFromCli, parseAgentArgs, USAGE, UsageError, type ProbeOptions } from './config/cli-args.ts';
import type { AgentConfig } from './config/config.ts';
import { startAgentEndpoints, type AgentEndpoints } from './http-endpoints.ts';
import { formatProbeReport, probeCameras } from './probe.ts';
import { startRegistryHeartbeat } from './heartbeat/start-heartbeat.ts';

const NAME = 'framecast-agent';

/** What to check when Redis refuses the agent, in the words of the agent-key setup (README, "Auth model"). */
const AGENT_REDIS_HINTS = {
  auth: "check REDIS_URL's user and password: with an agent key, the user framecast-agent-<key id> must exist on Redis (the key's ACL line) and the password is the key",
  noperm: "the agent's Redis user may not do this: its ACL line (from POST /api/agent-keys) must cover every room this agent publishes",
};

function parseOrExit() {
  try {
    return parseAgentArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${NAME}: ${err.message} (see --help)\n`);
    process.exit(2);
  }
}

const args = parseOrExit();
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (args.command === 'version') printVersionAndExit(NAME, AGENT_VERSION);
if (args.command === 'probe') {
  const { config } = configOrExit(NAME, () => loadAgentConfigFromCli(args.values, process.env, { probe: true }));
  await probe(config, args.probe, args.values['log-level'] ?? process.env.LOG_LEVEL);
} else {
  await runService({
    name: 'capture-agent',
    title: 'capture agent',
    command: NAME,
    version: AGENT_VERSION,
    listenHint: 'set FRAMECAST_METRICS_PORT, 0 = off',
    loadConfig: (env) => loadAgentConfigFromCli(args.values, env),
    start: ({ config, logger }) => startAgent(config, logger),
  });
}

/** probe / --dry-run: report what each camera delivers, exit 0 if every one delivered frames. */
async function probe(config: AgentConfig, opts: ProbeOptions, explicitLevel: string | undefined): Promise<void> {
  // Probe output is the report on stdout; logs only when asked for with LOG_LEVEL/--log-level.
  const logger = createLogger('capture-agent', explicitLevel ? config.LOG_LEVEL : 'silent');
  const runtime = { ffmpegPath: config.FRAMECAST_FFMPEG_PATH, ffprobePath: config.FRAMECAST_FFPROBE_PATH, maxFrameBytes: config.FRAMECAST_MAX_SOURCE_FRAME_BYTES };
  const reports = await probeCameras(config.cameras, runtime, opts.seconds, logger);
  for (const r of reports) process.stdout.write(`${opts.json ? JSON.stringify(r) : formatProbeReport(r)}\n`);
  process.exit(reports.every((r) => r.ok) ? 0 : 1);
}

async function startAgent(config: AgentConfig, logger: Logger): Promise<StartedService> {
  // The config requires REDIS_URL or REDIS_CLUSTER_NODES outside probe mode, so a target is set here.
  // No INFO ready check: the agent's Redis user (the registry's ACL line) may only publish its rooms.
  const bus = new RedisFrameBus({ redis: redisTargetOf(config)!, connectionName: NAME, readyCheck: false, commandTimeoutMs: config.FRAMECAST_REDIS_COMMAND_TIMEOUT_MS });
  // ioredis reports each failed reconnect attempt; the publishers log the down/up transitions, and
  // the cause (a refused password, say) is logged once per episode, not once per retry.
  const redisProblems = new RedisProblemLog(logger, { what: 'frame bus', hints: AGENT_REDIS_HINTS });
  bus.on('connectionError', (err: Error) => {
    logger.debug({ err: err.message }, 'redis connection error');
    redisProblems.report(err);
  });
  bus.on('ready', () => redisProblems.clear());
  const agent = await startCaptureAgent({ config, bus, logger });
  // Heartbeats with stats to the registry (when FRAMECAST_REGISTRY_URL is set); never on the frame path.
  const heartbeat = startRegistryHeartbeat(config, agent, logger);
  let endpoints: AgentEndpoints | null = null;
  let statsTimer: NodeJS.Timeout | null = null;

  return {
    async listen() {
      // /metrics and /healthz (FRAMECAST_METRICS_PORT, 0 = off); a taken port ends the process.
      if (config.FRAMECAST_METRICS_PORT > 0) endpoints = await startAgentEndpoints(agent, { host: config.FRAMECAST_METRICS_HOST, port: config.FRAMECAST_METRICS_PORT, logger });
      if (config.FRAMECAST_STATS_INTERVAL_MS > 0) {
        statsTimer = setInterval(() => {
          const mem = process.memoryUsage();
          const s = agent.stats();
          logger.info({ busUp: s.busUp, cameras: s.cameras.length, rssBytes: mem.rss, heapUsedBytes: mem.heapUsed }, 'capture agent stats');
          for (const c of s.cameras) logger.info(c, 'camera stats');
        }, config.FRAMECAST_STATS_INTERVAL_MS);
      }
      const first = config.cameras[0]!;
      return {
        fields: {
          // The single-camera fields keep the start line readable for the common one-camera box.
          room: first.room,
          source: first.sourceText,
          fps: first.fps,
          size: `${first.size.width}x${first.size.height}`,
          cameras: config.cameras.map((c) => ({ camera: c.name, room: c.room, source: c.sourceText })),
          metricsPort: endpoints?.port ?? null,
        },
        message: 'capture agent started',
      };
    },
    // The sources first (ffmpeg killed and reaped, no frame in flight), then Redis and the endpoints.
    async stop() {
      if (statsTimer) clearInterval(statsTimer);
      await agent.stop();
      await Promise.all([bus.close(), endpoints?.close(), heartbeat?.stop()]);
    },
    stoppedFields: () => ({ cameras: agent.stats().cameras }),
  };
}
