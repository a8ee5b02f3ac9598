import pino, { type Logger } from 'pino';

/** Structured JSON logs; secrets and message contents are never logged (keys are redacted by path too). */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'sekha' },
      redact: { paths: ['*.key', '*.api_key', '*.authorization', '*.password', 'req.headers.authorization', 'req.headers["x-api-key"]'], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
