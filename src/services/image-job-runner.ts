// Runs queued image jobs. Every instance polls; a job is claimed with one conditional UPDATE, so two
// instances never run the same job. A claim is a lease the runner renews while it works: when an instance
// dies its jobs are claimed again once the lease runs out, and on a clean stop it hands unfinished jobs back
// at once. The result is recorded in the transaction that links the images to the conversation, and only if
// the claim still holds. Each provider runs at most `max_concurrency` jobs at once on this instance; a job
// every provider turned away (not accepted: nothing was made or billed) waits and is tried again.
import { randomUUID } from 'node:crypto';
import { wasNotAccepted } from '../providers/not-accepted.ts';
import { Balancer } from '../providers/routing/balancer.ts';
import type { ImageRouter } from '../providers/routing/image-router.ts';
import type { ProviderState } from '../providers/routing/provider-state.ts';
import type { ClaimableJob, ImageJobsRepository } from '../store/db/repositories/image-jobs.ts';
import type { ImageParams, ImagesService } from './images.ts';
import { jobError } from './image-jobs.ts';

export interface JobLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface JobRunnerOptions {
  /** How often to look for jobs (a submission on this instance looks at once). */
  pollMs: number;
  /** How long a claim holds without renewal; renewed every third of it. */
  leaseMs: number;
  /** Claims (runs) a job gets before it is failed. */
  maxAttempts: number;
}

export const JOB_RUNNER_DEFAULTS: JobRunnerOptions = { pollMs: 1000, leaseMs: 60_000, maxAttempts: 5 };

const BATCH = 50;
const SILENT: JobLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Thrown inside the result's transaction when the claim was lost: nothing of the run is kept. */
class ClaimLost extends Error {
  override name = 'ClaimLost';
}

interface Running {
  claimId: string;
  done: Promise<void>;
}

export class ImageJobRunner {
  private readonly repository: ImageJobsRepository;
  private readonly images: ImagesService;
  private readonly router: ImageRouter;
  private readonly options: JobRunnerOptions;
  private readonly balancer = new Balancer();
  private readonly running = new Map<string, Running>();
  private log: JobLog = SILENT;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  private polling: Promise<void> | undefined;
  /** A poll asked for while one runs: it follows that one. */
  private nextPoll: Promise<void> | undefined;

  constructor(deps: { repository: ImageJobsRepository; images: ImagesService; router: ImageRouter }, options: Partial<JobRunnerOptions> = {}) {
    this.repository = deps.repository;
    this.images = deps.images;
    this.router = deps.router;
    this.options = { ...JOB_RUNNER_DEFAULTS, ...options };
  }

  /** Starts polling: at once (jobs left from a previous run are picked up), then every pollMs. */
  start(log: JobLog = SILENT): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.log = log;
    this.timer = setInterval(() => void this.kick(), this.options.pollMs);
    this.timer.unref();
    void this.kick();
  }

  /**
   * Looks for work now (after a submission, or a job ending and freeing a slot); resolves when a poll that
   * began after the call has claimed what it could.
   */
  kick(): Promise<void> {
    if (!this.started || this.stopped) return Promise.resolve();
    if (this.polling) {
      this.nextPoll ??= this.polling.then(() => {
        this.nextPoll = undefined;
        return this.kick();
      });
      return this.nextPoll;
    }
    const poll = this.poll()
      .catch((error: unknown) => this.log.error({ err: error }, 'image job poll failed'))
      .finally(() => {
        if (this.polling === poll) this.polling = undefined;
      });
    this.polling = poll;
    return poll;
  }

  /**
   * Stops claiming, gives running jobs up to `drainMs` to finish, then hands the rest back to the queue
   * (another instance, or this one after a restart, runs them again).
   */
  async stop(drainMs = 0): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.polling;
    if (this.running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running.values()].map((r) => r.done)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs))),
    ]);
    clearTimeout(timer);
    await Promise.all(
      [...this.running].map(async ([id, { claimId }]) => {
        const handedBack = await this.repository.requeue(id, claimId, Date.now()).catch(() => false);
        if (handedBack) this.log.info({ job: id }, 'image job handed back to the queue at shutdown');
      }),
    );
  }

  private async poll(): Promise<void> {
    const jobs = await this.repository.claimable(Date.now(), BATCH);
    for (const job of jobs) {
      if (this.stopped) return;
      if (this.running.has(job.id)) continue;
      const params = JSON.parse(job.request) as ImageParams;
      let providers: ProviderState[];
      try {
        providers = this.router.providersFor({ operation: 'generate', request: { prompt: params.prompt, n: params.n, size: params.size, ...(params.model ? { model: params.model } : {}), options: {} } });
      } catch (error) {
        // The configuration changed since the job was queued and no provider serves it any more.
        await this.claimAndFail(job, error);
        continue;
      }
      // A provider with a free slot, healthy if any is; otherwise the job waits for the next poll.
      const free = providers.filter((p) => p.hasJobSlot);
      const healthy = free.filter((p) => p.circuit.available);
      const provider = this.balancer.pick((healthy.length > 0 ? healthy : free).map((p) => ({ name: p.name, weight: p.weight, inFlight: p.jobsRunning, state: p })))?.state;
      if (!provider) continue;
      const now = Date.now();
      const claimId = randomUUID();
      const attempts = await this.repository.claim(job.id, { claimId, provider: provider.name, now, leaseUntil: now + this.options.leaseMs });
      if (attempts === undefined) continue; // another instance has it
      provider.jobsRunning++;
      const done = this.run(job, params, provider, claimId, attempts)
        .catch((error: unknown) => this.log.error({ err: error, job: job.id }, 'image job bookkeeping failed'))
        .finally(() => {
          provider.jobsRunning--;
          this.running.delete(job.id);
          void this.kick();
        });
      this.running.set(job.id, { claimId, done });
    }
  }

  private async run(job: ClaimableJob, params: ImageParams, provider: ProviderState, claimId: string, attempts: number): Promise<void> {
    if (attempts > this.options.maxAttempts) {
      await this.repository.fail(job.id, claimId, JSON.stringify({ message: `The image job was given up after ${this.options.maxAttempts} attempts.`, type: 'provider_error', param: null, code: 'provider_error' }), Date.now());
      return;
    }
    const heartbeat = setInterval(() => {
      void this.repository.renew(job.id, claimId, Date.now() + this.options.leaseMs).catch((error: unknown) => this.log.warn({ err: error, job: job.id }, 'could not renew an image job lease'));
    }, Math.max(1, Math.floor(this.options.leaseMs / 3)));
    heartbeat.unref();
    try {
      await this.images.generateForJob(job.user_id, params, this.router.pinned(provider.name), async (result, trx) => {
        if (!(await this.repository.succeed(job.id, claimId, JSON.stringify(result), Date.now(), trx))) throw new ClaimLost();
      });
    } catch (error) {
      if (error instanceof ClaimLost) {
        this.log.warn({ job: job.id }, 'image job claim lost; its result was discarded');
        return;
      }
      if (wasNotAccepted(error) && attempts < this.options.maxAttempts) {
        // Nothing was made: wait a little (longer each time), then any provider of the model may take it.
        const delayMs = Math.min(60_000, 1000 * 2 ** (attempts - 1));
        await this.repository.requeue(job.id, claimId, Date.now() + delayMs);
        return;
      }
      if (!(error instanceof Error && 'status' in error)) this.log.error({ err: error, job: job.id }, 'image job failed');
      await this.repository.fail(job.id, claimId, JSON.stringify(jobError(error)), Date.now());
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async claimAndFail(job: ClaimableJob, error: unknown): Promise<void> {
    const now = Date.now();
    const claimId = randomUUID();
    if ((await this.repository.claim(job.id, { claimId, provider: '', now, leaseUntil: now + this.options.leaseMs })) === undefined) return;
    await this.repository.fail(job.id, claimId, JSON.stringify(jobError(error)), now);
  }
}
