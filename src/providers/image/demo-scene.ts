// The demo model's drawing: an SVG scene whose colours and shapes come from the prompt's words, with the
// prompt as a caption. Pure and deterministic: the same prompt, size and variant give the same picture.
import { createHash } from 'node:crypto';

const COLOURS: Record<string, string> = {
  red: '#d63b3b', crimson: '#b0182f', scarlet: '#e4372b', orange: '#f08a24', amber: '#f5b014', yellow: '#f4d742',
  gold: '#d4a72c', golden: '#d9a93a', green: '#3f9d4b', emerald: '#1f8a5b', lime: '#9bd13a', olive: '#7f8a32',
  teal: '#1f8a8a', cyan: '#35c4d8', turquoise: '#2fc1b4', blue: '#2f6fd6', azure: '#3a8ee6', navy: '#1b2a5c',
  indigo: '#4b3ca8', purple: '#7d3cb5', violet: '#8f5bd6', lavender: '#b49de0', magenta: '#d13ca0', pink: '#f07fb0',
  rose: '#e0607e', brown: '#7a4b2a', beige: '#e3d3b0', white: '#f4f4f0', silver: '#c0c4cc', grey: '#8a8f98',
  gray: '#8a8f98', black: '#18181c', coral: '#f0735a', peach: '#f6b28c', mint: '#9fe0c0', sky: '#8cc8f0',
};

const STOP_WORDS = new Set(
  'a an the and or of in on at to with without for from by into over under its his her their our your my is are be as this that style art digital photorealistic photo realistic image picture very high quality detailed'.split(' '),
);

const THEMES = {
  night: ['night', 'moon', 'moonlit', 'star', 'stars', 'starry', 'space', 'galaxy', 'midnight', 'dark'],
  dusk: ['sunset', 'sunrise', 'dusk', 'dawn', 'evening', 'twilight'],
  mountains: ['mountain', 'mountains', 'hill', 'hills', 'peak', 'peaks', 'alps', 'landscape', 'valley', 'volcano'],
  water: ['sea', 'ocean', 'lake', 'river', 'beach', 'water', 'wave', 'waves', 'coast', 'harbor', 'harbour'],
  trees: ['forest', 'tree', 'trees', 'woods', 'jungle', 'park', 'garden', 'pine'],
  city: ['city', 'building', 'buildings', 'skyline', 'town', 'street', 'tower', 'downtown'],
} as const;

type Theme = keyof typeof THEMES;

/** A small seeded generator (mulberry32): the same seed always draws the same scene. */
function random(seed: string): () => number {
  let state = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hueColour(word: string, saturation = 65, lightness = 55): string {
  const hue = createHash('sha256').update(word).digest().readUInt16LE(0) % 360;
  return `hsl(${hue}, ${saturation}%, ${lightness}%)`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

export function wordsOf(prompt: string): string[] {
  return prompt.toLowerCase().match(/[a-z]+/g) ?? [];
}

/** The colours the prompt names, in order; empty when it names none. */
export function colourWords(prompt: string): string[] {
  return wordsOf(prompt).filter((w) => w in COLOURS).map((w) => COLOURS[w]!);
}

/** The prompt's main colour as RGB: the first colour word, else one derived from the prompt. */
export function promptTint(prompt: string): { r: number; g: number; b: number } {
  const hex = colourWords(prompt)[0];
  if (hex) return { r: parseInt(hex.slice(1, 3), 16), g: parseInt(hex.slice(3, 5), 16), b: parseInt(hex.slice(5, 7), 16) };
  const digest = createHash('sha256').update(prompt).digest();
  return { r: 80 + (digest[0]! % 150), g: 80 + (digest[1]! % 150), b: 80 + (digest[2]! % 150) };
}

function themesOf(words: string[]): Set<Theme> {
  const found = new Set<Theme>();
  for (const [theme, keys] of Object.entries(THEMES) as Array<[Theme, readonly string[]]>) {
    if (words.some((w) => keys.includes(w))) found.add(theme);
  }
  return found;
}

/** Word-wraps the caption into at most `maxLines` lines of about `perLine` characters. */
function wrap(text: string, perLine: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.trim().split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (next.length <= perLine) {
      line = next;
      continue;
    }
    if (line) lines.push(line);
    line = word.length > perLine ? `${word.slice(0, perLine - 1)}…` : word;
    if (lines.length === maxLines) break;
  }
  if (line && lines.length < maxLines) lines.push(line);
  if (lines.length === maxLines && lines.join(' ').length < text.trim().length) {
    const last = lines[maxLines - 1]!;
    lines[maxLines - 1] = `${last.slice(0, Math.max(0, perLine - 1))}…`;
  }
  return lines;
}

/** A caption band with the prompt and a "demo" mark: an SVG of the full size, transparent elsewhere. */
export function captionSvg(width: number, height: number, prompt: string, label: string): string {
  const font = Math.max(12, Math.round(Math.min(width, height) / 30));
  const perLine = Math.max(10, Math.floor(width / (font * 0.56)) - 2);
  const lines = wrap(prompt, perLine, 2);
  const band = Math.round(font * (lines.length * 1.35 + 1));
  const text = lines
    .map((l, i) => `<text x="${width / 2}" y="${height - band + font * (1.4 + i * 1.35)}" text-anchor="middle">${escapeXml(l)}</text>`)
    .join('');
  const small = Math.max(10, Math.round(font * 0.6));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`
    + `<rect x="0" y="${height - band}" width="${width}" height="${band}" fill="#000" fill-opacity="0.5"/>`
    + `<g font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="${font}" fill="#fff">${text}</g>`
    + `<text x="${small}" y="${small * 1.6}" font-family="DejaVu Sans, sans-serif" font-size="${small}" fill="#fff" fill-opacity="0.75">${escapeXml(label)}</text>`
    + '</svg>';
}

/** The whole scene for a prompt, `variant` telling apart the images of one request. */
export function sceneSvg(width: number, height: number, prompt: string, variant: number, label: string): string {
  const words = wordsOf(prompt);
  const themes = themesOf(words);
  const rng = random(`${prompt}\u0000${variant}`);
  const named = colourWords(prompt);
  const pick = (i: number, fallback: string) => named[i % Math.max(1, named.length)] ?? fallback;
  const horizon = Math.round(height * (0.58 + rng() * 0.1));
  const parts: string[] = [];

  // Sky: named colours first, else the time of day, else colours drawn from the prompt.
  const night = themes.has('night');
  const dusk = themes.has('dusk');
  const skyTop = night ? '#0b1030' : dusk ? pick(1, '#5b2a86') : pick(0, hueColour(`${prompt}sky`, 55, 62));
  const skyBottom = night ? '#2a2f6a' : dusk ? pick(0, '#f08a24') : pick(1, hueColour(`${prompt}haze`, 45, 82));
  parts.push(
    `<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${skyTop}"/><stop offset="1" stop-color="${skyBottom}"/></linearGradient></defs>`,
    `<rect width="${width}" height="${height}" fill="url(#sky)"/>`,
  );
  if (night) {
    for (let i = 0; i < 60; i++) {
      parts.push(`<circle cx="${(rng() * width).toFixed(1)}" cy="${(rng() * horizon * 0.9).toFixed(1)}" r="${(0.6 + rng() * 1.8) * (width / 1024)}" fill="#fff" fill-opacity="${(0.4 + rng() * 0.6).toFixed(2)}"/>`);
    }
  }
  // Sun or moon: low and large at dusk, pale at night.
  const radius = Math.min(width, height) * (dusk ? 0.12 : 0.08);
  const sunX = width * (0.2 + rng() * 0.6);
  const sunY = dusk ? horizon - radius * 0.4 : horizon * (0.25 + rng() * 0.3);
  parts.push(`<circle cx="${sunX.toFixed(1)}" cy="${sunY.toFixed(1)}" r="${radius.toFixed(1)}" fill="${night ? '#f2f0dc' : dusk ? '#ffd36b' : '#fff6c8'}" fill-opacity="0.95"/>`);

  if (themes.has('mountains')) {
    for (let layer = 0; layer < 3; layer++) {
      const base = horizon + layer * height * 0.03;
      const points = [`0,${base}`];
      const peaks = 3 + Math.floor(rng() * 3);
      for (let p = 0; p <= peaks; p++) {
        const x = (p / peaks) * width;
        const y = base - height * (0.12 + rng() * 0.22) * (1 - layer * 0.25);
        points.push(`${x.toFixed(1)},${y.toFixed(1)}`, `${((p + 0.5) / peaks * width).toFixed(1)},${(base - height * 0.05 * rng()).toFixed(1)}`);
      }
      points.push(`${width},${base}`);
      parts.push(`<polygon points="${points.join(' ')}" fill="${pick(2 + layer, hueColour(`${prompt}mountain`, 25, 30 + layer * 10))}" fill-opacity="${0.55 + layer * 0.15}"/>`);
    }
  }
  // Ground or water from the horizon down.
  if (themes.has('water')) {
    parts.push(`<rect y="${horizon}" width="${width}" height="${height - horizon}" fill="${pick(0, '#2f6fd6')}"/>`);
    for (let i = 0; i < 14; i++) {
      const y = horizon + ((i + 1) / 15) * (height - horizon);
      parts.push(`<rect x="${(rng() * width * 0.6).toFixed(1)}" y="${y.toFixed(1)}" width="${(width * (0.2 + rng() * 0.4)).toFixed(1)}" height="${Math.max(1, height / 300).toFixed(1)}" fill="#fff" fill-opacity="0.35"/>`);
    }
  } else {
    const ground = pick(1, hueColour(`${prompt}ground`, 40, 35));
    const wave = height * 0.03;
    parts.push(`<path d="M0 ${horizon} Q ${width * 0.25} ${horizon - wave} ${width * 0.5} ${horizon} T ${width} ${horizon} V ${height} H 0 Z" fill="${ground}"/>`);
  }
  if (themes.has('trees')) {
    const count = 10 + Math.floor(rng() * 10);
    for (let i = 0; i < count; i++) {
      const x = rng() * width;
      const h = height * (0.08 + rng() * 0.12);
      const y = horizon + rng() * height * 0.08;
      parts.push(`<polygon points="${x.toFixed(1)},${(y - h).toFixed(1)} ${(x - h * 0.3).toFixed(1)},${y.toFixed(1)} ${(x + h * 0.3).toFixed(1)},${y.toFixed(1)}" fill="${pick(2, '#1f6b3a')}"/>`);
    }
  }
  if (themes.has('city')) {
    let x = 0;
    while (x < width) {
      const w = width * (0.04 + rng() * 0.07);
      const h = height * (0.12 + rng() * 0.3);
      parts.push(`<rect x="${x.toFixed(1)}" y="${(horizon - h).toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="${night ? '#1a1d33' : '#3b4256'}"/>`);
      for (let wy = horizon - h + w * 0.2; wy < horizon - w * 0.2; wy += w * 0.35) {
        if (rng() < 0.5) parts.push(`<rect x="${(x + w * 0.3).toFixed(1)}" y="${wy.toFixed(1)}" width="${(w * 0.4).toFixed(1)}" height="${(w * 0.15).toFixed(1)}" fill="#ffe08a" fill-opacity="0.8"/>`);
      }
      x += w + width * 0.005;
    }
  }
  // Every other word becomes a shape of its own colour, so different prompts look different.
  const subjects = words.filter((w) => !STOP_WORDS.has(w) && !(w in COLOURS)).slice(0, 10);
  for (const [i, word] of subjects.entries()) {
    const size = Math.min(width, height) * (0.05 + rng() * 0.09);
    const cx = size + rng() * (width - 2 * size);
    const cy = size + rng() * (height * 0.8 - 2 * size);
    const fill = hueColour(word);
    const opacity = (0.55 + rng() * 0.35).toFixed(2);
    switch ((word.length + i) % 3) {
      case 0:
        parts.push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${(size / 2).toFixed(1)}" fill="${fill}" fill-opacity="${opacity}"/>`);
        break;
      case 1:
        parts.push(`<rect x="${(cx - size / 2).toFixed(1)}" y="${(cy - size / 2).toFixed(1)}" width="${size.toFixed(1)}" height="${size.toFixed(1)}" rx="${(size / 6).toFixed(1)}" fill="${fill}" fill-opacity="${opacity}" transform="rotate(${Math.round(rng() * 90)} ${cx.toFixed(1)} ${cy.toFixed(1)})"/>`);
        break;
      default:
        parts.push(`<polygon points="${cx.toFixed(1)},${(cy - size / 2).toFixed(1)} ${(cx - size / 2).toFixed(1)},${(cy + size / 2).toFixed(1)} ${(cx + size / 2).toFixed(1)},${(cy + size / 2).toFixed(1)}" fill="${fill}" fill-opacity="${opacity}"/>`);
    }
  }
  const caption = captionSvg(width, height, prompt, label).replace(/^<svg[^>]*>|<\/svg>$/g, '');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}${caption}</svg>`;
}
