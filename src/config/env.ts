/**
 * Parses a group of environment variables with a zod schema and turns the first problem into a
 * ConfigError naming the variable, instead of a stack trace from deep inside a client.
 */
import type { z } from 'zod';
import { ConfigError } from './errors';

export type Env = Record<string, string | undefined>;

export function parseEnv<S extends z.ZodType>(schema: S, env: Env, keys: readonly string[]): z.infer<S> {
  const picked: Record<string, string> = {};
  for (const key of keys) {
    const raw = env[key];
    if (raw !== undefined && raw.trim() !== '') picked[key] = raw.trim();
  }
  const result = schema.safeParse(picked);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const setting = String(issue.path[0] ?? keys[0]);
    const given = picked[setting];
    const shown = given === undefined ? 'is missing' : `has ${JSON.stringify(given)}`;
    throw new ConfigError(setting, `${shown}; ${issue.message}`);
  }
  return result.data;
}
