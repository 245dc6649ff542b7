import { Type } from '@sinclair/typebox';
import { Host, Port, StringEnum } from './common.js';

/** Settings of this engine process: where it keeps state, how it logs, where it reports status. */
export const NodeSchema = Type.Object(
  {
    stateDir: Type.String({
      minLength: 1,
      default: './var',
      description:
        'Directory for everything the engine writes (generated daemon configs, prompt cache, recordings spool, embedded Redis data). Relative paths here and elsewhere in the file resolve against the directory of the configuration file (the working directory when started without one).',
    }),
    logLevel: StringEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
      default: 'info',
      description: 'pino log level.',
    }),
    recordingsWorker: Type.Boolean({
      default: true,
      description:
        '`switchboard start` runs a recordings worker as its child process (restarted if it dies). Set false when workers run elsewhere (`switchboard recordings-worker`); they need the same configured recordings.encryption key and the engine\'s spool and capture directories.',
    }),
    status: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Serve GET /status and GET /metrics over HTTP.' }),
        host: Host('Address the status endpoint listens on.', '127.0.0.1'),
        port: Port('Port of the status endpoint (0 picks a free port).', 9091),
      },
      { additionalProperties: false, default: {}, description: 'Read-only status and metrics endpoint.' },
    ),
  },
  { additionalProperties: false, default: {}, description: 'This engine process.' },
);
