// Builds the chat and image routers from the providers configuration: one adapter per provider and kind,
// one live state (circuit, in-flight count) per provider shared by both kinds. A kind no provider serves
// gets Easel's built-in demo model, as when no provider is configured at all.
import type { ProviderKind, ProvidersConfig, ProviderSpec } from '../config-file.ts';
import { OPEN_IMAGE_CAPABILITIES } from '../config-file.ts';
import type { ChatProvider } from '../chat/provider.ts';
import { OpenAICompatibleChat } from '../chat/openai-compatible.ts';
import { DEMO_CHAT_MODEL, DemoChat } from '../chat/demo.ts';
import type { ImageProvider } from '../image/provider.ts';
import { modelTraits, OpenAICompatibleImageProvider } from '../image/openai-compatible.ts';
import { DEMO_IMAGE_MODEL, DemoImageProvider } from '../image/demo.ts';
import type { RetryPolicy } from '../retry.ts';
import { Circuit } from './circuit.ts';
import { ProviderState } from './provider-state.ts';
import { ModelTable, type TableMember } from './model-table.ts';
import { Router, type ObserveCall } from './router.ts';
import { ChatRouter } from './chat-router.ts';
import { ImageRouter } from './image-router.ts';

export interface Routing {
  chat: ChatRouter;
  images: ImageRouter;
  /** Every provider's live state, in configuration order (the demo last). */
  providers: ProviderState[];
}

export interface RoutingOptions {
  maxImageBytes: number;
  modelsCacheTtlSeconds: number;
  /** The clock circuits use; tests move it. */
  now?: () => number;
  /** Each upstream call as it ends, for metrics. */
  observe?: ObserveCall;
  retry?: RetryPolicy;
}

export const DEMO_PROVIDER = 'easel-demo';

/** The built-in demo models as a provider of the kinds nobody else serves. */
function demoProvider(kinds: ProviderKind[]): ProviderSpec {
  const model = (id: string, kind: ProviderKind) => ({ id, aliases: [], upstream: id, kind, image: { ...OPEN_IMAGE_CAPABILITIES, streaming: true } });
  return {
    name: DEMO_PROVIDER,
    kinds,
    adapter: 'demo',
    endpoint: undefined,
    weight: 1,
    maxConcurrency: 2,
    anyModel: false,
    models: kinds.map((kind) => (kind === 'chat' ? model(DEMO_CHAT_MODEL, 'chat') : model(DEMO_IMAGE_MODEL, 'image'))),
  };
}

export function buildRouting(config: ProvidersConfig, options: RoutingOptions): Routing {
  const unserved = (['chat', 'image'] as const).filter((kind) => !config.providers.some((p) => p.kinds.includes(kind)));
  const specs = unserved.length > 0 ? [...config.providers, demoProvider(unserved)] : config.providers;
  const providers = specs.map((spec) => new ProviderState(spec, new Circuit(config.circuit, options.now)));
  const router = new Router({ observe: options.observe });

  const members = <A>(kind: ProviderKind, adapter: (spec: ProviderSpec) => A): TableMember<A>[] =>
    providers.filter((p) => p.spec.kinds.includes(kind)).map((provider) => ({ provider, adapter: adapter(provider.spec) }));

  const chat = members<ChatProvider>('chat', (spec) =>
    spec.adapter === 'demo' ? new DemoChat() : new OpenAICompatibleChat(spec.endpoint!, options.modelsCacheTtlSeconds, options.retry),
  );
  const images = members<ImageProvider>('image', (spec) =>
    spec.adapter === 'demo'
      ? new DemoImageProvider()
      : new OpenAICompatibleImageProvider(spec.endpoint!, {
        maxImageBytes: options.maxImageBytes,
        modelsCacheTtlSeconds: options.modelsCacheTtlSeconds,
        retry: options.retry,
        streams: streamingOf(spec),
      }),
  );
  return {
    chat: new ChatRouter(new ModelTable('chat', chat, config.defaults.chat), router),
    images: new ImageRouter(new ModelTable('image', images, config.defaults.image), router),
    providers,
  };
}

/** Whether the upstream streams a model (by its own name): as declared, else as the adapter knows its family. */
function streamingOf(spec: ProviderSpec): (model: string | undefined) => boolean {
  return (model) => spec.models.find((m) => m.kind === 'image' && m.upstream === model)?.image.streaming ?? modelTraits(model).streams;
}
