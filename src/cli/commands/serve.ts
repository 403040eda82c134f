import { parse, type Command } from '../command.ts';

export const serve: Command = {
  summary: 'Start the server from source (as `npm run dev`)',
  usage: [
    'Usage: easel serve [--port <port>] [--host <address>]',
    '',
    'Starts the HTTP server with the configuration in the environment, migrating the database first.',
    'Stops gracefully on SIGTERM or SIGINT.',
    '',
    'Options:',
    '  --port <port>     Listen port (overrides PORT; default 8000)',
    '  --host <address>  Listen address (overrides HOST; default 0.0.0.0)',
  ].join('\n'),
  async run(args) {
    const options = parse(args, { port: { type: 'string' }, host: { type: 'string' } });
    if (options.port !== undefined) process.env.PORT = options.port;
    if (options.host !== undefined) process.env.HOST = options.host;
    // src/main.ts starts on import and owns the process from here: signals, exit codes, shutdown.
    await import('../../main.ts');
    return 0;
  },
};
