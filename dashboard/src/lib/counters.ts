// Each platform's own way of counting, mirroring the API's content rules so the person sees
// the same verdict before sending that the API would give after.

export type Platform = 'linkedin' | 'x' | 'facebook' | 'instagram' | 'threads'

export const LIMITS: Record<Platform, number> = {
  x: 280,
  linkedin: 3000,
  facebook: 63206,
  instagram: 2200,
  threads: 500,
}
export const INSTAGRAM_HASHTAG_LIMIT = 5
export const THREADS_LINK_LIMIT = 5
export const X_URL_WEIGHT = 23

// twitter-text v3: these code point ranges weigh 1, everything else 2 (scale 100 -> 1).
const LIGHT_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0, 4351],
  [8192, 8205],
  [8208, 8223],
  [8242, 8247],
]

// Bare domains (no scheme) count as URLs on X only with a real TLD; the common ones cover
// what people type, and anything with a scheme is always a URL.
const URL_PATTERN =
  /(?:https?:\/\/[^\s<>"]+|\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:com|org|net|io|co|dev|app|ai|me|info|biz|edu|gov|uk|de|fr|es|it|nl|eu|ca|us|ly|gl|tv)\b(?:\/[^\s<>"]*)?)/giu

// One emoji as a person sees it: flags, keycaps, and ZWJ sequences with modifiers.
const EMOJI_PATTERN =
  /\p{Regional_Indicator}{2}|[#*0-9]\uFE0F?\u20E3|\p{Extended_Pictographic}(?:\uFE0F|\p{Emoji_Modifier})?(?:\u200D\p{Extended_Pictographic}(?:\uFE0F|\p{Emoji_Modifier})?)*/gu

function codePointWeight(cp: number): number {
  for (const [lo, hi] of LIGHT_RANGES) if (cp >= lo && cp <= hi) return 1
  return 2
}

function plainWeight(text: string): number {
  let weight = 0
  let last = 0
  for (const match of text.matchAll(EMOJI_PATTERN)) {
    const index = match.index ?? 0
    weight += weightOfCodePoints(text.slice(last, index)) + 2
    last = index + match[0].length
  }
  return weight + weightOfCodePoints(text.slice(last))
}

function weightOfCodePoints(text: string): number {
  let weight = 0
  for (const ch of text) weight += codePointWeight(ch.codePointAt(0) ?? 0)
  return weight
}

/** X's weighted length: URLs 23, CJK and emoji 2, Latin 1 (twitter-text v3, NFC first). */
export function tweetWeight(text: string): number {
  const normal = text.normalize('NFC')
  let weight = 0
  let last = 0
  for (const match of normal.matchAll(URL_PATTERN)) {
    const index = match.index ?? 0
    weight += plainWeight(normal.slice(last, index)) + X_URL_WEIGHT
    last = index + match[0].length
  }
  return weight + plainWeight(normal.slice(last))
}

/** UTF-16 code units: LinkedIn's commentary limit counts these. */
export function utf16Length(text: string): number {
  return text.length
}

/** Unicode code points: Facebook and Instagram count these (as Python's len()). */
export function codePointLength(text: string): number {
  let n = 0
  for (const _ of text) n++
  return n
}

// The code points Threads counts as their UTF-8 bytes: pictographs, symbols, dingbats, and the
// joiners, selectors, keycaps and tags of emoji sequences (herald/content_rules.py, the same).
function isEmojiCodePoint(cp: number): boolean {
  return (
    (cp >= 0x1f000 && cp <= 0x1faff) ||
    (cp >= 0x2600 && cp <= 0x27bf) ||
    (cp >= 0x2300 && cp <= 0x23ff) ||
    (cp >= 0x2b00 && cp <= 0x2bff) ||
    (cp >= 0xe0020 && cp <= 0xe007f) ||
    cp === 0x200d ||
    cp === 0xfe0f ||
    cp === 0x20e3
  )
}

function utf8Bytes(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4
}

/** Threads' length: a character each, an emoji's code points as their UTF-8 bytes. */
export function threadsLength(text: string): number {
  let n = 0
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0
    n += isEmojiCodePoint(cp) ? utf8Bytes(cp) : 1
  }
  return n
}

/** Distinct links as Threads counts them (each URL in the text once). */
export function threadsLinks(text: string): number {
  const found = new Set<string>()
  for (const m of text.matchAll(/https?:\/\/[^\s]+/giu)) found.add(m[0].replace(/[.,;:!?)]+$/u, ''))
  return found.size
}

export function countHashtags(text: string): number {
  return [...text.matchAll(/(?<![\p{L}\p{N}_&#])#[\p{L}\p{N}_]+/gu)].length
}

export interface Count {
  platform: Platform
  used: number
  limit: number
  over: boolean
  label: string
  notes: string[]
}

/** The counter for one platform, and anything else that platform would refuse. */
export function countFor(
  platform: Platform,
  parts: string[],
  imageUrl: string,
): Count[] {
  if (platform === 'x') {
    return parts.map((part, i) => {
      const used = tweetWeight(part)
      const notes: string[] = []
      if (!part.trim() && !(i === 0 && imageUrl)) notes.push('the tweet is empty')
      return {
        platform,
        used,
        limit: LIMITS.x,
        over: used > LIMITS.x,
        label: parts.length > 1 ? `X ${i + 1}/${parts.length}` : 'X',
        notes,
      }
    })
  }
  if (platform === 'threads') {
    return parts.map((part, i) => {
      const used = threadsLength(part)
      const notes: string[] = []
      if (!part.trim() && !(i === 0 && imageUrl)) notes.push('the post is empty')
      const links = threadsLinks(part)
      if (links > THREADS_LINK_LIMIT)
        notes.push(`${links} links; Threads allows ${THREADS_LINK_LIMIT} per post`)
      return {
        platform,
        used,
        limit: LIMITS.threads,
        over: used > LIMITS.threads,
        label: parts.length > 1 ? `Threads ${i + 1}/${parts.length}` : 'Threads',
        notes,
      }
    })
  }
  const text = parts.join('\n\n')
  const used = platform === 'linkedin' ? utf16Length(text) : codePointLength(text)
  const notes: string[] = []
  if (platform === 'instagram') {
    if (!imageUrl) notes.push('Instagram needs an image')
    const tags = countHashtags(text)
    if (tags > INSTAGRAM_HASHTAG_LIMIT)
      notes.push(`${tags} hashtags; Instagram allows at most ${INSTAGRAM_HASHTAG_LIMIT}`)
  } else if (!text.trim() && !imageUrl) {
    notes.push('the post is empty')
  }
  const names: Record<Platform, string> = {
    x: 'X',
    linkedin: 'LinkedIn',
    facebook: 'Facebook',
    instagram: 'Instagram',
    threads: 'Threads',
  }
  return [
    {
      platform,
      used,
      limit: LIMITS[platform],
      over: used > LIMITS[platform],
      label: names[platform],
      notes,
    },
  ]
}
