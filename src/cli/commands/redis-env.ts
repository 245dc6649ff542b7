/**
 * REDIS_URL, the one environment override of the configuration (`start` and
 * `recordings-worker` read it): checked as `redis.url` is, so a bad value is
 * refused at once as invalid configuration (exit 3) instead of a start that
 * waits for a Redis it can never reach.
 */
import { ConfigError } from '../../errors.js';

const REDIS_URL = /^(redis|rediss):\/\/[^\s]+$|^unix:\/\/\/[^\s]+$/;

/** The REDIS_URL to use, undefined when unset or empty; a ConfigError when it is not a Redis URL. */
export function redisUrlFromEnvironment(env: NodeJS.ProcessEnv): string | undefined {
  const value = env.REDIS_URL;
  if (value === undefined || value === '') return undefined;
  let problem: string | undefined;
  if (!REDIS_URL.test(value)) problem = 'expected redis://[user:password@]host:port[/db], rediss://... or unix:///path/to/socket';
  else {
    try {
      const u = new URL(value);
      if (u.protocol !== 'unix:' && (u.hostname === '' || (u.port !== '' && (Number(u.port) < 1 || Number(u.port) > 65535)))) problem = 'expected a host and a port from 1 to 65535';
    } catch {
      problem = 'not a URL';
    }
  }
  // The value is not repeated: it may hold a password.
  if (problem !== undefined) throw new ConfigError([{ path: 'REDIS_URL (environment)', message: `${problem}; got a value of ${value.length} characters` }]);
  return value;
}
