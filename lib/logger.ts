import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The structured logger. Never log message text, webhook bodies or secrets: log ids, counts and
 * codes. Powertools reads its own variables: `POWERTOOLS_SERVICE_NAME` names the function;
 * `POWERTOOLS_LOG_LEVEL` sets the level (INFO by default)
 * (tests and the local stack default to WARN to stay quiet).
 */
export const logger = new Logger();
