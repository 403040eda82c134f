// The ImageProvider ImagesService sees: it picks the providers of the request's model, fits the request to
// what each declares (size map, n split into calls of at most max_n, a 400 for what none can do), and sends
// each call through the router. Upstreams get their own model name; results carry the public one.
import { providerError } from '../../lib/errors.ts';
import type { ModelInfo } from '../models.ts';
import { addImageUsage, type EditRequest, type GenerateRequest, type ImageBatch, type ImageJob, type ImageProvider, type ImageStreamEvent, type ImageUsage } from '../image/provider.ts';
import { refusal, splitN, upstreamSize } from './capabilities.ts';
import type { ModelTable, Route } from './model-table.ts';
import type { Release, Router } from './router.ts';
import type { ProviderState } from './provider-state.ts';
import { listAll } from './listing.ts';

type ImageRoute = Route<ImageProvider>;

/** A stream whose first event is in: the upstream has accepted it. */
interface OpenedStream {
  first: IteratorResult<ImageStreamEvent>;
  rest: AsyncIterator<ImageStreamEvent>;
}

export class ImageRouter implements ImageProvider {
  readonly kind = 'routed' as const;
  private readonly table: ModelTable<ImageProvider>;
  private readonly router: Router;
  /** Set on a router pinned to one provider (an async job's reserved slot). */
  private readonly only: string | undefined;

  constructor(table: ModelTable<ImageProvider>, router: Router, only?: string) {
    this.table = table;
    this.router = router;
    this.only = only;
  }

  /** The same routing restricted to one provider: the job runner reserved a slot on it. */
  pinned(provider: string): ImageRouter {
    return new ImageRouter(this.table, this.router, provider);
  }

  /** The providers that could take the job (for the job runner's per-provider bound). */
  providersFor(job: ImageJob): ProviderState[] {
    return this.capable(job).map((route) => route.provider);
  }

  check(job: ImageJob): void {
    this.capable(job);
  }

  listModels(): Promise<ModelInfo[]> {
    return listAll(this.table, (model) => [...(model.image.generation ? ['image_generation' as const] : []), ...(model.image.edits ? ['image_edit' as const] : [])]);
  }

  resolveAlias(name: string): string | undefined {
    return this.table.aliasTarget(name);
  }

  async generate(request: GenerateRequest): Promise<ImageBatch> {
    return this.run({ operation: 'generate', request });
  }

  async edit(request: EditRequest): Promise<ImageBatch> {
    return this.run({ operation: 'edit', request });
  }

  async *stream(job: ImageJob, partialImages: number): AsyncIterable<ImageStreamEvent> {
    const single = { ...job, request: { ...job.request, n: 1 } } as ImageJob;
    const routes = this.capable(single);
    // The call counts as accepted once its first event is in; until then a refusal may go to the next provider.
    yield* await this.router.dispatchHeld(routes, (route) => this.open(route, single, partialImages), (opened, release) => this.relay(opened, release));
  }

  // ---- steps -------------------------------------------------------------------------------------

  /** The routes that can serve the job; when none can, the first one's reason (400). */
  private capable(job: ImageJob): ImageRoute[] {
    const routes = this.table.routes(job.request.model).filter((r) => this.only === undefined || r.provider.name === this.only);
    if (routes.length === 0) throw providerError(`The provider '${this.only}' no longer serves this model.`);
    const reasons = routes.map((r) => refusal(r.capabilities, job.operation, job.request.size, r.model));
    const able = routes.filter((_, i) => reasons[i] === undefined);
    if (able.length === 0) throw reasons[0]!;
    return able;
  }

  /** n split by the smallest max_n among the able providers, each call routed (and balanced) on its own. */
  private async run(job: ImageJob): Promise<ImageBatch> {
    const routes = this.capable(job);
    const maxN = Math.min(...routes.map((r) => r.capabilities.maxN));
    const batches = await Promise.all(splitN(job.request.n, maxN).map((n) => this.router.dispatch(routes, (route) => this.call(route, job, n))));
    return {
      images: batches.flatMap((b) => b.images),
      model: batches[0]!.model,
      usage: batches.reduce<ImageUsage | undefined>((sum, b) => addImageUsage(sum, b.usage), undefined),
      ...(batches[0]!.size ? { size: batches[0]!.size } : {}),
    };
  }

  /** The request as this upstream takes it: its own model name, its size. */
  private fit<R extends GenerateRequest>(route: ImageRoute, request: R): R {
    const { model: _public, ...rest } = request;
    const size = upstreamSize(route.capabilities, request.size)!;
    return { ...rest, size, ...(route.upstreamModel !== undefined ? { model: route.upstreamModel } : {}) } as R;
  }

  private async call(route: ImageRoute, job: ImageJob, n: number): Promise<ImageBatch> {
    const request = this.fit(route, { ...job.request, n });
    const batch = job.operation === 'generate' ? await route.adapter.generate(request) : await route.adapter.edit(request as EditRequest);
    return { ...batch, model: route.model ?? batch.model, ...(request.size !== job.request.size ? { size: request.size } : {}) };
  }

  private async open(route: ImageRoute, job: ImageJob, partialImages: number): Promise<OpenedStream> {
    const fitted = { ...job, request: this.fit(route, job.request) } as ImageJob;
    const rest = route.adapter.stream(fitted, partialImages)[Symbol.asyncIterator]();
    const first = await rest.next();
    const relabel = (event: ImageStreamEvent): ImageStreamEvent =>
      event.type === 'completed'
        ? { ...event, model: route.model ?? event.model, ...(fitted.request.size !== job.request.size ? { size: fitted.request.size } : {}) }
        : event;
    const relabelled: AsyncIterator<ImageStreamEvent> = {
      next: async () => {
        const next = await rest.next();
        return next.done ? next : { done: false, value: relabel(next.value) };
      },
      return: async () => (await rest.return?.()) ?? { done: true, value: undefined },
    };
    return { first: first.done ? first : { done: false, value: relabel(first.value) }, rest: relabelled };
  }

  private async *relay(opened: OpenedStream, release: Release): AsyncIterable<ImageStreamEvent> {
    let outcome: Parameters<Release>[0] = 'abandoned';
    try {
      let next = opened.first;
      while (!next.done) {
        yield next.value;
        next = await opened.rest.next();
      }
      outcome = 'ok';
    } catch (error) {
      outcome = 'error';
      throw error;
    } finally {
      if (outcome === 'abandoned') await opened.rest.return?.();
      release(outcome);
    }
  }
}
