// Which providers serve a model of one kind: by public id or alias (declared), else every provider that
// takes any model; a request without a model gets the configured default. An unknown model is a 404.
import { ApiError } from '../../lib/errors.ts';
import { OPEN_IMAGE_CAPABILITIES, type ImageCapabilities, type ProviderKind } from '../config-file.ts';
import type { ProviderState } from './provider-state.ts';

export interface TableMember<A> {
  provider: ProviderState;
  adapter: A;
}

/** One way to serve a request: a provider, and the model names on each side. */
export interface Route<A> extends TableMember<A> {
  /** The public id (what history and responses name); undefined when the request named none and the upstream picks. */
  model: string | undefined;
  /** The upstream's own name for it; undefined: no model is sent. */
  upstreamModel: string | undefined;
  capabilities: ImageCapabilities;
}

export function modelNotFound(model: string): ApiError {
  return new ApiError(404, 'not_found_error', `The model '${model}' does not exist or is not served here.`, { param: 'model', code: 'model_not_found' });
}

export class ModelTable<A> {
  readonly kind: ProviderKind;
  readonly members: TableMember<A>[];
  private readonly defaultModel: string | undefined;

  constructor(kind: ProviderKind, members: TableMember<A>[], defaultModel: string | undefined) {
    this.kind = kind;
    this.members = members;
    this.defaultModel = defaultModel;
  }

  /** Every route for `model` (never empty), or a 404 naming it. */
  routes(model: string | undefined): Route<A>[] {
    const wanted = model ?? this.defaultModel;
    if (wanted === undefined) {
      // No model and no default: a provider that takes any model gets none and uses its own default.
      const open = this.openRoutes(undefined);
      if (open.length > 0) return open;
      const first = this.declaredModels()[0];
      if (first) return this.routes(first.id);
      throw new ApiError(404, 'not_found_error', `No ${this.kind} model is configured.`, { param: 'model', code: 'model_not_found' });
    }
    const declared = this.members.flatMap((member) =>
      member.provider.spec.models
        .filter((m) => m.kind === this.kind && (m.id === wanted || m.aliases.includes(wanted)))
        .map((m): Route<A> => ({ ...member, model: m.id, upstreamModel: m.upstream, capabilities: m.image })),
    );
    if (declared.length > 0) return declared;
    const open = this.openRoutes(wanted);
    if (open.length > 0) return open;
    throw modelNotFound(wanted);
  }

  /** The id of the declared model of this kind that `name` is an alias of. */
  aliasTarget(name: string): string | undefined {
    return this.declaredModels().find((m) => m.aliases.includes(name))?.id;
  }

  /** The models of this kind that the providers declare, in the providers' order. */
  private declaredModels() {
    return this.members.flatMap((member) => member.provider.spec.models.filter((m) => m.kind === this.kind));
  }

  private openRoutes(model: string | undefined): Route<A>[] {
    return this.members
      .filter((m) => m.provider.spec.anyModel)
      .map((member) => ({ ...member, model, upstreamModel: model, capabilities: OPEN_IMAGE_CAPABILITIES }));
  }
}
