import { z } from 'zod';
import { duration, flag, integer, urlPath } from './primitives.js';

/**
 * The `console` section: the admin console the gateway serves (the browser app of `apps/console`)
 * and its sign-in sessions. Durations are written like the rest of the file (`15m`, `8h`); the
 * defaults are given in that form too (`prefault`), so they are parsed like a written value and the
 * JSON Schema shows them as a user would write them.
 */

const SECOND = 1000;
const DAY = 86_400_000;

export const consoleLockoutSchema = z
  .strictObject({
    maxFailures: integer(1, 100).default(5).describe('Failed sign-ins from one client address that lock it out (429 ACCOUNT_LOCKED).'),
    window: duration().prefault('15m').describe('Failures are counted over this window, from the first one.'),
    lockFor: duration().prefault('15m').describe('How long a locked-out address stays locked.'),
  })
  .describe('Lockout of console sign-in, per client address (IPv6 by /56).');

export const consoleSchema = z
  .strictObject({
    enabled: flag().optional().describe('Serve the console. @default admin.enabled (the console needs the admin API)'),
    path: urlPath()
      .refine((path) => path !== '/' && !path.endsWith('/'), 'expected a path such as /console (no trailing slash)')
      .default('/console')
      .describe('Where the console is served; its session API is at <path>/api/session.'),
    assetsDir: z.string().min(1).optional().describe('The built console (index.html, assets/). Relative paths are resolved against the working directory. @default apps/console/dist'),
    idleTimeout: duration().prefault('15m').describe('A console session without a request for this long ends.'),
    absoluteTimeout: duration().prefault('8h').describe('A console session ends this long after sign-in, whatever happens.'),
    bindIp: flag().default(true).describe('Refuse a session cookie presented from another client address than the one that signed in.'),
    lockout: consoleLockoutSchema.prefault({}),
  })
  .superRefine((section, context) => {
    const within = (value: number, min: number, max: number, path: readonly (string | number)[], what: string): void => {
      if (value < min || value > max) context.addIssue({ code: 'custom', path: [...path], message: `${what} must be between ${min / 1000} s and ${max / 3_600_000} h` });
    };
    within(section.idleTimeout, SECOND, DAY, ['idleTimeout'], 'idleTimeout');
    within(section.absoluteTimeout, SECOND, 30 * DAY, ['absoluteTimeout'], 'absoluteTimeout');
    if (section.absoluteTimeout < section.idleTimeout) context.addIssue({ code: 'custom', path: ['absoluteTimeout'], message: 'absoluteTimeout must be at least idleTimeout' });
    within(section.lockout.window, SECOND, 30 * DAY, ['lockout', 'window'], 'lockout.window');
    within(section.lockout.lockFor, SECOND, 30 * DAY, ['lockout', 'lockFor'], 'lockout.lockFor');
  })
  .describe('The admin console at /console: sign-in with an admin API key, server-side sessions, CSRF protection.');

export type ConsoleConfig = z.output<typeof consoleSchema>;
