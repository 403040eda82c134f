/** Unix seconds, OpenAI's convention for timestamps. */
export const toSeconds = (ms: number): number => Math.floor(ms / 1000);
export const nowSeconds = (): number => toSeconds(Date.now());
