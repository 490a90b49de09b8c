import { CHANNEL_ID } from '../topics.js';

/**
 * Who receives what. Every topic a thing may use is `channels/<id>/messages[/<subtopic>]`,
 * so subscriptions are kept per channel and a message is matched only against the
 * filters of its own channel: its subtopic levels against each filter's levels after
 * `messages` (`+` one level, `#` the rest, including none).
 *
 * Shared subscriptions (`$share/<group>/<filter>`) form a group per (group, filter): a
 * message goes to one member of each group, in turn.
 */
export interface SubscriptionOwner {
  readonly thingId: string;
}

export interface Subscription<S extends SubscriptionOwner = SubscriptionOwner> {
  session: S;
  /** The filter as subscribed, `$share/<group>/` included. */
  filter: string;
  /** The channel id as written in the filter (matched exactly, as Mainflux's broker does). */
  channel: string;
  /** Its levels after `messages`: [] for the channel's own topic. */
  levels: string[];
  qos: 0 | 1;
  noLocal: boolean;
  /** The shared subscription's group name, or null. */
  group: string | null;
}

export interface ParsedFilter {
  channel: string;
  levels: string[];
  group: string | null;
  /** The filter without `$share/<group>/`. */
  topicFilter: string;
}

const SHARE = /^\$share\/([^/+#]+)\/(.+)$/;
const CHANNEL_FILTER = /^channels\/([^/+#]+)\/messages(?:\/(.*))?$/;

/** A filter on one concrete channel (subtopic wildcards allowed), shared or not, or null. */
export function parseFilter(filter: string): ParsedFilter | null {
  let group: string | null = null;
  let topicFilter = filter;
  if (filter.startsWith('$share/')) {
    const m = SHARE.exec(filter);
    if (!m) return null;
    group = m[1]!;
    topicFilter = m[2]!;
  }
  const m = CHANNEL_FILTER.exec(topicFilter);
  if (!m || !CHANNEL_ID.test(m[1]!)) return null;
  const levels = m[2] === undefined ? [] : m[2].split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level === '#' && i !== levels.length - 1) return null;
    if (level !== '+' && level !== '#' && (level.includes('+') || level.includes('#'))) return null;
  }
  return { channel: m[1]!, levels, group, topicFilter };
}

/** Whether filter levels (after `messages`) match a topic's subtopic levels. */
export function matches(filter: string[], topic: string[]): boolean {
  for (let i = 0; i < filter.length; i++) {
    const f = filter[i]!;
    if (f === '#') return true;
    if (i >= topic.length) return false;
    if (f !== '+' && f !== topic[i]) return false;
  }
  return filter.length === topic.length;
}

interface Group<S extends SubscriptionOwner> {
  key: string;
  members: Subscription<S>[];
  next: number;
}

export class SubscriptionIndex<S extends SubscriptionOwner> {
  private byChannel = new Map<string, Subscription<S>[]>();
  private groups = new Map<string, Group<S>>();

  add(sub: Subscription<S>): void {
    if (sub.group !== null) {
      const key = groupKey(sub.group, sub.filter);
      let group = this.groups.get(key);
      if (!group) {
        group = { key, members: [], next: 0 };
        this.groups.set(key, group);
      }
      group.members.push(sub);
    }
    const list = this.byChannel.get(sub.channel);
    if (list) list.push(sub);
    else this.byChannel.set(sub.channel, [sub]);
  }

  remove(sub: Subscription<S>): void {
    const list = this.byChannel.get(sub.channel);
    if (list) {
      const at = list.indexOf(sub);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) this.byChannel.delete(sub.channel);
    }
    if (sub.group !== null) {
      const key = groupKey(sub.group, sub.filter);
      const group = this.groups.get(key);
      if (group) {
        const at = group.members.indexOf(sub);
        if (at >= 0) group.members.splice(at, 1);
        if (group.members.length === 0) this.groups.delete(key);
      }
    }
  }

  /** Members of a shared group (group, full `$share/…` filter), for delivery from the bus. */
  groupMembers(group: string, filter: string): Subscription<S>[] {
    return this.groups.get(groupKey(group, filter))?.members ?? [];
  }

  /**
   * The plain subscriptions matching a message of `channel` with these subtopic levels,
   * and, when `withGroups`, one member of each matching shared group (taken in turn;
   * `eligible` skips members that may not receive it).
   */
  match(
    channel: string,
    levels: string[],
    withGroups: boolean,
    eligible: (sub: Subscription<S>) => boolean,
    out: Subscription<S>[],
  ): void {
    const list = this.byChannel.get(channel);
    if (!list) return;
    let seenGroups: Set<string> | null = null;
    for (const sub of list) {
      if (!matches(sub.levels, levels)) continue;
      if (sub.group === null) {
        out.push(sub);
        continue;
      }
      if (!withGroups) continue;
      const key = groupKey(sub.group, sub.filter);
      if (seenGroups?.has(key)) continue;
      seenGroups ??= new Set();
      seenGroups.add(key);
      const chosen = this.pick(key, eligible);
      if (chosen) out.push(chosen);
    }
  }

  /** The next member of a group in turn that is eligible, or null. */
  pick(key: string, eligible: (sub: Subscription<S>) => boolean): Subscription<S> | null {
    const group = this.groups.get(key);
    if (!group) return null;
    const n = group.members.length;
    for (let i = 0; i < n; i++) {
      const member = group.members[(group.next + i) % n]!;
      if (eligible(member)) {
        group.next = (group.next + i + 1) % n;
        return member;
      }
    }
    return null;
  }

  get size(): number {
    let n = 0;
    for (const list of this.byChannel.values()) n += list.length;
    return n;
  }
}

export function groupKey(group: string, filter: string): string {
  return `${group}\u0000${filter}`;
}
