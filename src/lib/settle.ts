/**
 * Like Promise.all, but answers only once every promise has settled: on a failure nothing is left running
 * behind the caller's back (a provider call still billing, a file still being written after the cleanup).
 * Rejects with the first failure in the array's order.
 */
export async function allSettledOrFirstError<T>(promises: Array<Promise<T>>): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}
