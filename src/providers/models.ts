// What /v1/models lists: every model Easel can route to, with what it can do.
export type Capability = 'chat' | 'image_generation' | 'image_edit';

export interface ModelInfo {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  capabilities: Capability[];
}

/** Anything that contributes models to /v1/models (chat providers, image providers). */
export interface ModelSource {
  listModels(): Promise<ModelInfo[]>;
  /** The listed id a declared alias stands for (a providers file's `aliases`); undefined when it is none. */
  resolveAlias?(name: string): string | undefined;
}
