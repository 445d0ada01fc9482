// Each network's own version of a post: what the Compose tabs edit and what the API's
// `variants` carries (docs/api.md, "Each network's own words"). A network's text or first
// comment left empty is the shared one; the API applies the same precedence.
import { countFor, LIMITS, threadsLength, threadsLinks, THREADS_LINK_LIMIT, tweetWeight } from './counters'
import type { Count, Platform } from './counters'

export interface NetworkVersion {
  text: string
  first_comment: string
}

export type Versions = Partial<Record<Platform, NetworkVersion>>

export const CHAINED: readonly Platform[] = ['x', 'threads']

/** Whether a network's own text can be set: X and Threads publish the thread when there is one. */
export function takesOwnText(platform: Platform, thread: boolean): boolean {
  return !(thread && CHAINED.includes(platform))
}

/** The parts `platform` publishes: its own text, else the shared text or thread. */
export function partsFor(platform: Platform, shared: string[], thread: boolean, versions: Versions): string[] {
  const own = versions[platform]?.text ?? ''
  if (own.trim() && takesOwnText(platform, thread)) return [own]
  if (thread && CHAINED.includes(platform)) return shared
  return [shared.join('\n\n')]
}

/** The first comment `platform` publishes under its post ('' for none). */
export function commentFor(platform: Platform, shared: string, versions: Versions): string {
  const own = versions[platform]?.first_comment ?? ''
  return own.trim() ? own : shared
}

/** The API's `variants` for the picked networks: only what a network changes. */
export function variantsBody(platforms: Platform[], thread: boolean, versions: Versions): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {}
  for (const p of platforms) {
    const own = versions[p]
    if (!own) continue
    const fields: Record<string, string> = {}
    if (own.text.trim() && takesOwnText(p, thread)) fields.text = own.text
    if (own.first_comment.trim()) fields.first_comment = own.first_comment
    if (Object.keys(fields).length > 0) out[`platform:${p}`] = fields
  }
  return out
}

const NAMES: Record<Platform, string> = {
  x: 'X',
  linkedin: 'LinkedIn',
  facebook: 'Facebook',
  instagram: 'Instagram',
  threads: 'Threads',
}

/** The counter of a network's first comment: a reply's limit on X and Threads (the API's
 * rules); LinkedIn, Facebook and Instagram document none of their own, so only its length. */
export function commentCount(platform: Platform, text: string): Count | null {
  if (!text.trim()) return null
  const label = `${NAMES[platform]} comment`
  if (platform === 'x') {
    const used = tweetWeight(text)
    return { platform, used, limit: LIMITS.x, over: used > LIMITS.x, label, notes: [] }
  }
  if (platform === 'threads') {
    const used = threadsLength(text)
    const links = threadsLinks(text)
    const notes = links > THREADS_LINK_LIMIT ? [`${links} links; Threads allows ${THREADS_LINK_LIMIT}`] : []
    return { platform, used, limit: LIMITS.threads, over: used > LIMITS.threads, label, notes }
  }
  const used = [...text].length
  return { platform, used, limit: 10000, over: used > 10000, label, notes: [] }
}

/** Every counter for the picked networks, each on what that network publishes. */
export function countsFor(
  platforms: Platform[],
  shared: string[],
  thread: boolean,
  versions: Versions,
  imageUrl: string,
  sharedComment: string,
): Count[] {
  return platforms.flatMap((p) => {
    const counts = countFor(p, partsFor(p, shared, thread, versions), imageUrl)
    const comment = commentCount(p, commentFor(p, sharedComment, versions))
    return comment ? [...counts, comment] : counts
  })
}
