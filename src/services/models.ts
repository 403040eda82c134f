// /v1/models: every source's models in one list, chat models first (clients take data[0] as the chat model).
import { notFound } from '../lib/errors.ts';
import type { ModelInfo, ModelSource } from '../providers/models.ts';

/** Where a failing source is reported; the listing itself goes on without it. */
export interface ModelsLog {
  warn(details: object, message: string): void;
}

export interface ModelList {
  object: 'list';
  data: ModelInfo[];
}

export class ModelsService {
  private readonly sources: ModelSource[];

  constructor(sources: ModelSource[]) {
    this.sources = sources;
  }

  async list(log?: ModelsLog): Promise<ModelList> {
    const results = await Promise.allSettled(this.sources.map((source) => source.listModels()));
    const seen = new Set<string>();
    const models: ModelInfo[] = [];
    for (const result of results) {
      if (result.status === 'rejected') {
        log?.warn({ err: result.reason }, 'a model source failed; listing the others');
        continue;
      }
      for (const model of result.value) {
        if (seen.has(model.id)) continue;
        seen.add(model.id);
        models.push(model);
      }
    }
    const isChat = (m: ModelInfo) => m.capabilities.includes('chat');
    return { object: 'list', data: [...models.filter(isChat), ...models.filter((m) => !isChat(m))] };
  }

  /** The model listed under `id`, or under the id a declared alias stands for (requests take either). */
  async get(id: string, log?: ModelsLog): Promise<ModelInfo> {
    const { data } = await this.list(log);
    const target = data.some((m) => m.id === id) ? id : this.sources.map((source) => source.resolveAlias?.(id)).find((found) => found !== undefined);
    const model = target === undefined ? undefined : data.find((m) => m.id === target);
    if (!model) throw notFound(`The model '${id}' does not exist`, 'model');
    return model;
  }
}
