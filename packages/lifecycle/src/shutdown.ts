import type { Logger } from '@framecast/logging';

export interface ShutdownOptions {
  logger: Logger;
  /** Names the service in the final log line ("gateway stopped"). */
  service: string;
  /** Past this the process exits with code 1 whatever is still running. */
  timeoutMs: number;
  /** Closes everything in order; resolving means a clean stop (exit 0). */
  stop: (signal: NodeJS.Signals) => Promise<void>;
  /** Extra fields for the "stopped" log line, read when it is written. */
  stoppedFields?: () => Record<string, unknown>;
}

/**
 * SIGTERM and SIGINT start one graceful shutdown: `stop()` then exit 0, exit 1 if it fails, and
 * exit 1 when the deadline passes first, so an orchestrator's kill never has to wait on a stuck
 * close. A second signal during shutdown changes nothing.
 */
export function handleShutdownSignals(opts: ShutdownOptions): void {
  const { logger, timeoutMs } = opts;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown deadline passed; exiting');
      process.exit(1);
    }, timeoutMs);
    deadline.unref();
    opts.stop(signal).then(
      () => {
        logger.info(opts.stoppedFields?.() ?? {}, `${opts.service} stopped`);
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err: String(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
