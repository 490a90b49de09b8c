/**
 * Subtopics as Mainflux's adapters read them (API.md §7): URL-decoded, `/` becomes `.`,
 * empty segments dropped; a segment longer than one character with `*` or `>` (NATS
 * wildcards) is invalid. Returns null when invalid.
 */
export function normalizeSubtopic(raw: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return null;
  }
  const parts = decoded.split(/[/.]/).filter((p) => p.length > 0);
  for (const p of parts) {
    if (p.length > 1 && (p.includes('*') || p.includes('>'))) return null;
    if (/\s/.test(p)) return null;
  }
  return parts.join('.');
}

export const CHANNEL_ID = /^[A-Za-z0-9_-]+$/;

export interface ParsedTopic {
  channel: string;
  subtopic: string;
}

/**
 * An MQTT publish topic `channels/<id>/messages[/<subtopic>]` (no wildcards), or null.
 */
export function parsePublishTopic(topic: string): ParsedTopic | null {
  const m = /^channels\/([^/+#]+)\/messages(?:\/(.*))?$/.exec(topic);
  if (!m || !CHANNEL_ID.test(m[1]!)) return null;
  const rest = m[2] ?? '';
  if (rest.includes('+') || rest.includes('#')) return null;
  const subtopic = normalizeSubtopic(rest);
  if (subtopic === null) return null;
  return { channel: m[1]!.toLowerCase(), subtopic };
}

/**
 * An MQTT subscription filter on one concrete channel: `channels/<id>/messages`, with
 * an optional subtopic that may use `+` and `#`. Returns the channel id, or null.
 */
export function parseSubscribeTopic(topic: string): string | null {
  const m = /^channels\/([^/+#]+)\/messages(?:\/(.*))?$/.exec(topic);
  if (!m || !CHANNEL_ID.test(m[1]!)) return null;
  if (m[2] !== undefined) {
    const levels = m[2].split('/');
    for (let i = 0; i < levels.length; i++) {
      const l = levels[i]!;
      if (l === '#' && i !== levels.length - 1) return null;
      if (l !== '+' && l !== '#' && (l.includes('+') || l.includes('#'))) return null;
    }
  }
  return m[1]!.toLowerCase();
}
