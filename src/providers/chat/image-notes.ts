// How images in a conversation reach a chat model: as a short text note, not as pixels.
//
// Why text: most chat models cannot take images at all (an image part makes them fail the whole
// request), Easel's media URLs are often not reachable from the provider, and inlining base64 would
// resend every image with every later message. A note keeps the model aware of what was made or
// attached, and of the media id the user may refer back to.

export interface ImageCallNote {
  action: 'generate' | 'edit';
  prompt: string;
  model: string;
  size: string;
  mediaIds: string[];
  failed: boolean;
}

/** e.g. `[Image generated for prompt: "a red fox"; model easel-demo-image; size 1024x1024; media jan_…]` */
export function describeImageCall(note: ImageCallNote): string {
  const verb = note.action === 'edit' ? 'edited' : 'generated';
  const head = note.failed ? `[Image ${note.action === 'edit' ? 'edit' : 'generation'} failed for prompt: ` : `[Image ${verb} for prompt: `;
  const media = note.mediaIds.length > 0 ? `; media ${note.mediaIds.join(', ')}` : '';
  return `${head}${JSON.stringify(note.prompt)}; model ${note.model}; size ${note.size}${media}]`;
}

/** e.g. `[Image attached: media jan_…]` or `[Image attached: https://…]` */
export function describeAttachedImage(ref: string | null): string {
  return ref ? `[Image attached: ${ref.startsWith('data:') ? 'inline image' : ref.startsWith('jan_') ? `media ${ref}` : ref}]` : '[Image attached]';
}

const GENERATED = /\[Image (?:generated|edited) for prompt: ("(?:[^"\\]|\\.)*")/g;

/** The prompts of the images a text says were made (the demo model reads history this way). */
export function generatedImagePrompts(text: string): string[] {
  return [...text.matchAll(GENERATED)].map((match) => JSON.parse(match[1]!) as string);
}
