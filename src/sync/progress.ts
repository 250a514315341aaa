import cliProgress from 'cli-progress';
import type { Logger } from 'pino';

/** Progress of a cycle (users planned and written, removals): a bar on a terminal, a log line every few seconds otherwise. */
export interface Progress {
  start(total: number): void;
  update(done: number): void;
  stop(): void;
}

export function createProgress(opts: { tty: boolean; log: Logger; everySeconds: number }): Progress {
  if (opts.tty) {
    const bar = new cliProgress.SingleBar(
      { format: 'sync [{bar}] {value}/{total} users done  {duration_formatted}', stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      start(total) {
        if (total > 0) {
          bar.start(total, 0);
          started = true;
        }
      },
      update: (done) => started && bar.update(done),
      stop() {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  let total = 0;
  let last = 0;
  let lastAt = 0;
  return {
    start(t) {
      total = t;
      lastAt = Date.now();
    },
    update(done) {
      last = done;
      if (Date.now() - lastAt >= opts.everySeconds * 1000) {
        lastAt = Date.now();
        opts.log.info({ done, total }, `sync: progress ${done}/${total}`);
      }
    },
    stop() {
      if (total > 0 && last > 0) opts.log.info({ done: last, total }, `sync: progress ${last}/${total}`);
    },
  };
}
