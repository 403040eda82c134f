// /v1/models for one kind: each provider's declared models, and what a provider that takes any model lists
// itself (its upstream's /models). One provider being down leaves the others' models listed.
import type { ModelSpec } from '../config-file.ts';
import type { Capability, ModelInfo, ModelSource } from '../models.ts';
import type { ModelTable } from './model-table.ts';

export async function listAll<A extends ModelSource>(table: ModelTable<A>, capabilities: (model: ModelSpec) => Capability[]): Promise<ModelInfo[]> {
  const lists = await Promise.allSettled(
    table.members.map(async ({ provider, adapter }): Promise<ModelInfo[]> => {
      const { spec } = provider;
      // The built-in demo models describe themselves.
      if (spec.adapter === 'demo') return adapter.listModels();
      const declared = spec.models
        .filter((m) => m.kind === table.kind)
        .map((m): ModelInfo => ({ id: m.id, object: 'model', created: 0, owned_by: spec.name, capabilities: capabilities(m) }));
      if (!spec.anyModel) return declared;
      const listed = await adapter.listModels().catch((error: unknown) => {
        if (declared.length > 0) return [];
        throw error;
      });
      return [...declared, ...listed];
    }),
  );
  const listed = lists.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  // Only when nothing could be listed is it an error (ModelsService logs it and lists the other kind).
  if (listed.length === 0 && lists[0]?.status === 'rejected') throw lists[0].reason;
  return listed.flat();
}
