// The ChatProvider ChatService sees: the request's model (or the default) picks the providers serving it,
// the router picks one, and the upstream gets its own name for the model. A stream holds its provider
// (in flight, and its health undecided) until the stream ends.
import type { ModelInfo } from '../models.ts';
import { ChatRequest, type ChatProvider, type Completion } from '../chat/provider.ts';
import type { ModelTable, Route } from './model-table.ts';
import type { Outcome, Release, Router } from './router.ts';
import { listAll } from './listing.ts';

export class ChatRouter implements ChatProvider {
  private readonly table: ModelTable<ChatProvider>;
  private readonly router: Router;

  constructor(table: ModelTable<ChatProvider>, router: Router) {
    this.table = table;
    this.router = router;
  }

  async complete(request: ChatRequest, signal?: AbortSignal): Promise<Completion> {
    const routes = this.table.routes(request.params.model);
    return this.router.dispatch(routes, (route) => route.adapter.complete(forRoute(request, route), signal));
  }

  async stream(request: ChatRequest, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
    const routes = this.table.routes(request.params.model);
    return this.router.dispatchHeld(routes, (route) => route.adapter.stream(forRoute(request, route), signal), (chunks, release) => held(chunks, release, signal));
  }

  listModels(): Promise<ModelInfo[]> {
    return listAll(this.table, () => ['chat']);
  }

  resolveAlias(name: string): string | undefined {
    return this.table.aliasTarget(name);
  }
}

/** The request with the upstream's name for the model; unchanged (its bytes kept) when the names agree. */
function forRoute(request: ChatRequest, route: Route<ChatProvider>): ChatRequest {
  if (route.upstreamModel === undefined || route.upstreamModel === request.params.model) return request;
  return new ChatRequest({ ...request.params, model: route.upstreamModel });
}

async function* held(chunks: AsyncIterable<Uint8Array>, release: Release, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  let outcome: Outcome = 'abandoned';
  try {
    yield* chunks;
    outcome = 'ok';
  } catch (error) {
    // A client that left is no fault of the provider's.
    if (!signal.aborted) outcome = 'error';
    throw error;
  } finally {
    release(outcome);
  }
}
