import file from './limits.json';
import { CBCOptions } from './types';

/** One numeric setting's bounds and default (limits.json, which the backend's Validate embeds). */
export interface SettingLimit {
  name: string;
  min?: number;
  max: number;
  unit: string;
  default: number;
}

/** The numeric settings' bounds and defaults, by jsonData key. */
export const SETTING_LIMITS = file.settings as Partial<Record<keyof CBCOptions, SettingLimit>>;

/** A query's bounds, as the backend's ParseQuery checks them. */
export const QUERY_LIMITS = file.query;
