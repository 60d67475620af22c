/**
 * Parses a group of environment variables with a zod schema and turns the first problem into a
 * ConfigError naming the variable, instead of a stack trace from deep inside a client. The secret
 * parts of every value read (URL credentials, token-like query values, API keys) are registered
 * with the redaction (shared/redact.ts) first, and an error never shows them. The variables read
 * are the schema's keys: a setting is named once, in its schema.
 */
import type { z } from 'zod';
import { describeSettingValue, registerSettingSecrets } from '../shared/redact';
import { ConfigError } from './errors';

export type Env = Record<string, string | undefined>;

export function parseEnv<S extends z.ZodObject>(schema: S, env: Env): z.infer<S> {
  const keys = schema.keyof().options as readonly string[];
  const picked: Record<string, string> = {};
  for (const key of keys) {
    const raw = env[key];
    if (raw !== undefined && raw.trim() !== '') picked[key] = raw.trim();
  }
  for (const [key, value] of Object.entries(picked)) registerSettingSecrets(key, value);
  const result = schema.safeParse(picked);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const setting = String(issue.path[0] ?? keys[0]);
    const given = picked[setting];
    const shown = given === undefined ? 'is missing' : describeSettingValue(setting, given);
    throw new ConfigError(setting, `${shown}; ${issue.message}`);
  }
  return result.data;
}
