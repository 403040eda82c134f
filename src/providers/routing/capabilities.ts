// Fitting an image request to what a model declares it can do: a size it lacks is mapped as declared
// (size_map), an n above its max_n is split into several calls, and anything else it cannot do is a 400
// that says why and names the parameter. Nothing is silently dropped.
import { badRequest, type ApiError } from '../../lib/errors.ts';
import type { ImageCapabilities } from '../config-file.ts';
import type { ImageOperation } from '../image/provider.ts';

/** The size to ask the upstream for, or undefined when the model can neither make nor map it. */
export function upstreamSize(capabilities: ImageCapabilities, size: string): string | undefined {
  if (size === 'auto' || !capabilities.sizes || capabilities.sizes.includes(size)) return size;
  return capabilities.sizeMap[size];
}

/** Why the model cannot serve the request, or undefined when it can. */
export function refusal(capabilities: ImageCapabilities, operation: ImageOperation, size: string, model: string | undefined): ApiError | undefined {
  const name = model === undefined ? 'The default image model' : `The model '${model}'`;
  if (operation === 'generate' && !capabilities.generation) {
    return badRequest(`${name} only edits images: send the request to /v1/images/edits, or choose another model.`, 'model', 'unsupported_operation');
  }
  if (operation === 'edit' && !capabilities.edits) {
    return badRequest(`${name} does not support image edits; choose another model.`, 'model', 'unsupported_operation');
  }
  if (upstreamSize(capabilities, size) === undefined) {
    const offered = [...(capabilities.sizes ?? []), ...Object.keys(capabilities.sizeMap)];
    return badRequest(`${name} does not support size ${size}; it supports ${offered.join(', ')}.`, 'size', 'unsupported_size');
  }
  return undefined;
}

/** n as calls of at most maxN images each: 10 by 4 → [4, 4, 2]. */
export function splitN(n: number, maxN: number): number[] {
  const calls: number[] = [];
  for (let left = n; left > 0; left -= maxN) calls.push(Math.min(left, maxN));
  return calls;
}
