// Profiles the Easel process under one kind of load and prints where its CPU goes (self time by function
// and by package). Usage: node bench/profile.ts proxy|full|stream|images|items [seconds=10]
// The .cpuprofile is kept in bench/results/profiles/ (open it in Chrome DevTools for the call tree).
import fs from 'node:fs';
import path from 'node:path';
import { maxThroughput } from './lib/max-throughput.ts';
import { noisyPng } from './lib/fixtures.ts';
import { killAllStarted, RESULTS_DIR } from './lib/processes.ts';
import { createConversation, guestLogin, startEasel, startMock } from './lib/servers.ts';
import { openSeeder, seedConversations, seedItems, sqliteConfig } from './lib/seed.ts';
import { selfTimes } from './profile-summary.ts';
import { CHAT_BODY } from './scenarios/overhead.ts';

const kind = process.argv[2] ?? 'proxy';
const seconds = Number(process.argv[3] ?? 10);
const dir = path.join(RESULTS_DIR, 'profiles', `${kind}-${Date.now()}`);
fs.mkdirSync(dir, { recursive: true });

const png = kind === 'images' ? await noisyPng() : undefined;
const mock = await startMock('profile-mock', png ? { MOCK_IMAGE_FILE: png.file } : {});
// From source: in the bundle every function would be in dist/server.mjs; the by-file and by-package sums need the files.
const easel = await startEasel({ name: 'profile-easel', upstream: mock, from: 'source', nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
try {
  const { token, userId } = await guestLogin(easel);
  const headers = { authorization: `Bearer ${token}` };
  const chat = `${easel.url}/v1/chat/completions`;
  let request;
  let bodies: string[] | undefined;
  let connections = 32;
  if (kind === 'proxy') request = { url: chat, headers, body: JSON.stringify(CHAT_BODY) };
  else if (kind === 'stream') request = { url: chat, headers, body: JSON.stringify({ ...CHAT_BODY, stream: true }) };
  else if (kind === 'full') {
    const seeder = await openSeeder(sqliteConfig(easel.dataDir));
    const ids = await seedConversations(seeder, userId, 2000, 10);
    await seeder.close();
    bodies = ids.map((id) => JSON.stringify({ ...CHAT_BODY, conversation: id }));
    request = { url: chat, headers, body: bodies[0] };
  } else if (kind === 'images') {
    connections = 20;
    request = { url: `${easel.url}/v1/images/generations`, headers, body: JSON.stringify({ prompt: 'a fox', size: '1024x1024', response_format: 'url' }) };
  } else if (kind === 'items') {
    const conversation = await createConversation(easel, token);
    const seeder = await openSeeder(sqliteConfig(easel.dataDir));
    await seedItems(seeder, conversation, 10_000);
    await seeder.close();
    request = { url: `${easel.url}/v1/conversations/${conversation}/items?limit=20`, headers };
  } else throw new Error(`unknown kind ${kind}`);
  const result = await maxThroughput({ request, bodies, connections, warmupS: 0, durationS: seconds });
  process.stdout.write(`${kind}: ${result.rps} req/s over ${seconds} s (${connections} connections), non-2xx ${result.non2xx}, errors ${result.errors}\n`);
} finally {
  await easel.dispose();
  await mock.stop();
  killAllStarted();
}

const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile written in ${dir}`);
const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
for (const by of ['package', 'function'] as const) {
  process.stdout.write(`\nself time by ${by} (${path.relative(process.cwd(), path.join(dir, file))}):\n`);
  for (const row of selfTimes(profile, by).slice(0, by === 'package' ? 15 : 40)) {
    process.stdout.write(`${row.ms.toFixed(1).padStart(9)} ms ${(row.share * 100).toFixed(1).padStart(5)}%  ${row.key}\n`);
  }
}
