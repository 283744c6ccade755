import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The structured logger. Never log message text, webhook bodies or secrets: log ids, counts and
 * codes. `POWERTOOLS_SERVICE_NAME` names the function; `POWERTOOLS_LOG_LEVEL` sets the level
 * (tests and the local stack default to WARN to stay quiet).
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'wa-assistant',
  logLevel: (process.env.POWERTOOLS_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'INFO') as 'INFO',
});
