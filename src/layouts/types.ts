import type { LayoutParameter } from '../provision/layout.js';

/** A user's named provision layout (issue 19): its TOML, and the parameters it declares. */
export interface NamedLayout {
  name: string;
  toml: string;
  parameters: LayoutParameter[];
}

export interface StoredLayout extends NamedLayout {
  owner: string;
  createdAt: string;
  updatedAt: string;
}

export interface LayoutsPage {
  total: number;
  offset: number;
  limit: number;
  layouts: NamedLayout[];
}

/** The server's layout (MF_PROVISION_CONFIG_FILE or the built-in one): everyone's, read-only. */
export const DEFAULT_LAYOUT = 'default';
/** Lower-case letters and digits, then also `.`, `_` and `-`: at most 64, usable in a URL as is. */
export const LAYOUT_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** A layout's TOML is at most this long (bytes). */
export const MAX_TOML = 64 * 1024;
export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 100;
