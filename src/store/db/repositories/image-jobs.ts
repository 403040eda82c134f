import type { Kysely } from 'kysely';
import type { Database, ImageJobRow } from '../schema.ts';

export type ClaimableJob = Pick<ImageJobRow, 'id' | 'user_id' | 'model' | 'request'>;

export class ImageJobsRepository {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async insert(row: ImageJobRow): Promise<void> {
    await this.db.insertInto('image_jobs').values(row).execute();
  }

  async findOwned(id: string, userId: string): Promise<ImageJobRow | undefined> {
    return this.db.selectFrom('image_jobs').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  }

  /** Jobs free to claim at `now`, oldest first: queued and due, or running with a lease that ran out. */
  async claimable(now: number, limit: number): Promise<ClaimableJob[]> {
    return this.db
      .selectFrom('image_jobs')
      .select(['id', 'user_id', 'model', 'request'])
      .where((eb) => eb.or([eb.and([eb('status', '=', 'queued'), eb('available_at', '<=', now)]), eb.and([eb('status', '=', 'running'), eb('lease_until', '<', now)])]))
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /**
   * Takes the job if it is still free: one conditional UPDATE, so of two instances racing for it only one
   * changes the row. Returns the attempts so far (this one included), or undefined when someone else has it.
   */
  async claim(id: string, claim: { claimId: string; provider: string; now: number; leaseUntil: number }): Promise<number | undefined> {
    const result = await this.db
      .updateTable('image_jobs')
      .set((eb) => ({
        status: 'running',
        claim_id: claim.claimId,
        provider: claim.provider,
        lease_until: claim.leaseUntil,
        attempts: eb('attempts', '+', 1),
        started_at: eb.fn.coalesce('started_at', eb.val(claim.now)),
      }))
      .where('id', '=', id)
      .where((eb) => eb.or([eb.and([eb('status', '=', 'queued'), eb('available_at', '<=', claim.now)]), eb.and([eb('status', '=', 'running'), eb('lease_until', '<', claim.now)])]))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return undefined;
    const row = await this.db.selectFrom('image_jobs').select('attempts').where('id', '=', id).where('claim_id', '=', claim.claimId).executeTakeFirst();
    return row?.attempts;
  }

  /** Extends the lease of a job this claim still holds; false when it was lost. */
  async renew(id: string, claimId: string, leaseUntil: number): Promise<boolean> {
    const result = await this.db.updateTable('image_jobs').set({ lease_until: leaseUntil }).where('id', '=', id).where('claim_id', '=', claimId).where('status', '=', 'running').executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Records the result if this claim still holds the job (in the caller's transaction); false when it was lost. */
  async succeed(id: string, claimId: string, result: string, now: number, trx: Kysely<Database> = this.db): Promise<boolean> {
    return this.finish(id, claimId, { status: 'succeeded', result, completed_at: now }, trx);
  }

  async fail(id: string, claimId: string, error: string, now: number): Promise<boolean> {
    return this.finish(id, claimId, { status: 'failed', error, completed_at: now }, this.db);
  }

  /** Ends a running job, only if this claim still holds it. */
  private async finish(id: string, claimId: string, outcome: { status: 'succeeded' | 'failed'; result?: string; error?: string; completed_at: number }, trx: Kysely<Database>): Promise<boolean> {
    const updated = await trx
      .updateTable('image_jobs')
      .set({ ...outcome, claim_id: null, lease_until: 0 })
      .where('id', '=', id)
      .where('claim_id', '=', claimId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) > 0;
  }

  /** Hands the job back to the queue, to be claimed from `availableAt` on (by any instance). */
  async requeue(id: string, claimId: string, availableAt: number): Promise<boolean> {
    const updated = await this.db
      .updateTable('image_jobs')
      .set({ status: 'queued', claim_id: null, lease_until: 0, available_at: availableAt })
      .where('id', '=', id)
      .where('claim_id', '=', claimId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) > 0;
  }
}
