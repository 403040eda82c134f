// Reading conversation items (messages and image generation calls) the way the views need them.

/** The text of a message item, parts joined. */
export function messageText(item) {
  const content = item.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.filter((part) => typeof part.text === 'string').map((part) => part.text).join('\n');
}

/** Image URLs attached to a message (input_image parts). */
export function messageImageUrls(item) {
  if (!Array.isArray(item.content)) return [];
  return item.content.filter((part) => part.type === 'input_image' && part.image_url).map((part) => part.image_url);
}

/**
 * The images of an image_generation_call item.
 * @returns {Array<{id: string, url: string, prompt: string, size: string, model: string, createdAt: number}>}
 */
export function generatedImages(item) {
  if (item.type !== 'image_generation_call' || !Array.isArray(item.images)) return [];
  return item.images
    .filter((image) => image && image.url)
    .map((image) => ({ id: image.id, url: image.url, prompt: item.prompt ?? '', size: item.size ?? '', model: item.model ?? '', createdAt: item.created_at ?? 0 }));
}

/** A conversation title from the first words of a message. */
export function titleFrom(text, max = 60) {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1).trimEnd()}…`;
}

/** A file name for downloading a generated image. */
export function downloadName(image) {
  const ext = /\.(png|jpe?g|webp)(\?|$)/i.exec(image.url)?.[1] ?? 'png';
  return `${image.id || 'easel-image'}.${ext}`;
}
