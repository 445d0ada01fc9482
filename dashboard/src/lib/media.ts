// Compose's files: the upload straight to the bucket, their order, and the platforms' limits.
// The limits are herald.media.limits.RULES as generated into media-limits.json (never copied by
// hand): `mediaIssues` says before sending what the API would refuse, in a person's words.
import LIMITS from './media-limits.json'
import { platformName } from './plain'

export type Kind = 'image' | 'gif' | 'video' | 'document'

/** What the API read from the file (`GET /media/{id}`). */
export interface MediaFacts {
  kind: Kind
  content_type: string
  size: number
  width?: number | null
  height?: number | null
  duration_seconds?: number | null
  animated?: boolean | null
  pages?: number | null
}

export interface MediaOut extends Partial<MediaFacts> {
  media_id: string
  status: 'awaiting_upload' | 'ready' | 'rejected'
  filename?: string | null
  reason?: string | null
}

export interface UploadOut {
  url: string
  fields: Record<string, string>
  expires_at: string
  max_bytes: number
}

export type ItemState = 'uploading' | 'checking' | 'ready' | 'rejected' | 'failed'

/** One file in Compose. `key` is the browser's own id; `media_id` arrives with the upload. */
export interface MediaItem {
  key: string
  name: string
  type: string // the browser's guess, for the thumbnail until the API has read the file
  size: number
  state: ItemState
  progress: number // 0..1 of the upload
  thumb: string | null // a blob: URL of the file itself
  media_id?: string
  facts?: MediaFacts
  alt: string
  part: number
  problem?: string
}

interface KindLimits {
  content_types: string[]
  max_size: number
  min_size: number
  per_post: number
  alone: boolean
  min_duration_ms: number | null
  max_duration_ms: number | null
  min_side: number | null
  max_pixels: number | null
  ratio: number[] | null
  max_pages: number | null
  alt_text: boolean
}

export interface PlatformLimits {
  name: string
  alt_text_max: number
  per_part: boolean
  max_total: number | null
  kinds: Partial<Record<Kind, KindLimits>>
}

export const MEDIA_LIMITS = LIMITS.platforms as unknown as Record<string, PlatformLimits>

export function limitsFor(platform: string): PlatformLimits | null {
  return MEDIA_LIMITS[platform] ?? null
}

/** The kind before the API has read the file, from the browser's type (only for the picture). */
export function guessKind(type: string): Kind {
  if (type === 'image/gif') return 'gif'
  if (type.startsWith('image/')) return 'image'
  if (type.startsWith('video/')) return 'video'
  return 'document'
}

export function kindOf(item: MediaItem): Kind {
  return item.facts?.kind ?? guessKind(item.type)
}

// --- order ------------------------------------------------------------------------------------

/** The list with the item at `from` moved to `to` (both clamped to the list). */
export function move<T>(items: readonly T[], from: number, to: number): T[] {
  const out = [...items]
  if (from < 0 || from >= out.length) return out
  const target = Math.max(0, Math.min(out.length - 1, to))
  const [item] = out.splice(from, 1)
  out.splice(target, 0, item)
  return out
}

/** What a screen reader hears after a move. */
export function movedWords(name: string, to: number, count: number): string {
  return `${name} moved to position ${to + 1} of ${count}`
}

/** The files of one part, in order, with their index in the whole list. */
export function ofPart(items: readonly MediaItem[], part: number): MediaItem[] {
  return items.filter((i) => i.part === part)
}

/**
 * The request's `media`: ready files in order, alt text when given. `perPart` says whether any
 * target publishes a thread's tweets with their own files; otherwise every file is on part 0.
 */
export function mediaBody(
  items: readonly MediaItem[],
  perPart: boolean,
): { media_id: string; alt_text?: string; part: number }[] {
  return items
    .filter((i) => i.state === 'ready' && i.media_id)
    .map((i) => ({
      media_id: i.media_id as string,
      ...(i.alt.trim() ? { alt_text: i.alt.trim() } : {}),
      part: perPart ? i.part : 0,
    }))
}

// --- the upload -------------------------------------------------------------------------------

/** The presigned POST's form: its fields as given, then the file, last (S3 ignores what follows). */
export function uploadForm(upload: UploadOut, file: Blob, name = 'file'): FormData {
  const form = new FormData()
  for (const [key, value] of Object.entries(upload.fields)) form.append(key, value)
  form.append('file', file, name)
  return form
}

/** A refused upload in a person's words, from S3's answer (XML with a <Code>). */
export function uploadFailure(status: number, body: string): string {
  const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? ''
  if (code === 'EntityTooLarge') return 'The file is larger than Herald takes.'
  if (code === 'EntityTooSmall') return 'The file is empty.'
  if (status === 403 && /expired/i.test(body)) {
    return 'The upload took too long and its permission expired: add the file again.'
  }
  if (status === 0) return 'The upload did not reach storage: check the connection and add the file again.'
  return 'Storage refused the file: add it again, and tell whoever runs Herald if it happens again.'
}

export interface Sender {
  open(method: string, url: string): void
  send(body: FormData): void
  abort(): void
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null }
  onload: (() => void) | null
  onerror: (() => void) | null
  onabort: (() => void) | null
  status: number
  responseText: string
}

export class UploadFailed extends Error {}

/**
 * POSTs the file to the bucket with XMLHttpRequest (fetch reports no upload progress), calling
 * `onProgress` with 0..1. Resolves when S3 has it; rejects with `UploadFailed` in plain words.
 */
export function sendToBucket(
  upload: UploadOut,
  file: File,
  onProgress: (fraction: number) => void,
  make: () => Sender = () => new XMLHttpRequest() as unknown as Sender,
  signal?: AbortSignal,
): Promise<void> {
  if (file.size > upload.max_bytes) {
    return Promise.reject(new UploadFailed('The file is larger than Herald takes.'))
  }
  return new Promise((resolve, reject) => {
    const xhr = make()
    xhr.open('POST', upload.url)
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(Math.min(1, e.loaded / e.total))
    }
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1)
        resolve()
      } else reject(new UploadFailed(uploadFailure(xhr.status, xhr.responseText)))
    }
    xhr.onerror = () => reject(new UploadFailed(uploadFailure(0, '')))
    xhr.onabort = () => reject(new UploadFailed('The upload was stopped.'))
    signal?.addEventListener('abort', () => xhr.abort())
    xhr.send(uploadForm(upload, file, file.name))
  })
}

// --- the limits -------------------------------------------------------------------------------

export function sizeWords(n: number): string {
  const GB = 1e9
  const MB = 1e6
  if (n >= GB) return `${+(n / GB).toFixed(1)} GB`
  if (n >= MB) return `${+(n / MB).toFixed(1)} MB`
  return `${Math.max(1, Math.round(n / 1000))} KB`
}

function seconds(ms: number): string {
  return ms >= 60000 ? `${+(ms / 60000).toFixed(1)} min` : `${+(ms / 1000).toFixed(1)} s`
}

const KIND_WORDS: Record<Kind, [string, string]> = {
  image: ['image', 'images'],
  gif: ['animated GIF', 'animated GIFs'],
  video: ['video', 'videos'],
  document: ['document', 'documents'],
}

function kinds(kind: Kind, n: number): string {
  return `${n} ${KIND_WORDS[kind][n === 1 ? 0 : 1]}`
}

/** "up to 4 images (5 MB each), or 1 animated GIF (15 MB), or 1 video (0.5 s to 20 min, 8 GB)" */
export function limitsSummary(platform: string): string {
  const rules = limitsFor(platform)
  if (!rules) return `${platformName(platform)} does not publish uploaded files from Herald yet.`
  const parts = (Object.entries(rules.kinds) as [Kind, KindLimits][])
    .filter(([kind, rule]) => !(kind === 'gif' && rules.kinds.image && !rule.alone))
    .map(([kind, rule]) => {
      const bits = [`${sizeWords(rule.max_size)}${rule.per_post > 1 ? ' each' : ''}`]
      if (rule.min_duration_ms != null && rule.max_duration_ms != null) {
        bits.unshift(`${seconds(rule.min_duration_ms)} to ${seconds(rule.max_duration_ms)}`)
      }
      if (rule.max_pages != null) bits.push(`${rule.max_pages} pages`)
      const alone = rule.alone && rule.per_post === 1 ? ', alone' : ''
      return `${rule.per_post > 1 ? 'up to ' : ''}${kinds(kind, rule.per_post)} (${bits.join(', ')})${alone}`
    })
  const where = rules.per_part ? ' per tweet' : ' per post'
  return `${rules.name}: ${parts.join(', or ')}${where}.`
}

function effective(rules: PlatformLimits, facts: MediaFacts): Kind {
  if (facts.kind === 'gif' && !facts.animated && rules.kinds.image) return 'image'
  return facts.kind
}

export interface MediaIssue {
  key: string | null // the file it is about; null for the post as a whole
  message: string
}

/**
 * What `platform` would refuse of these files (the API's herald.media.limits rules, same
 * numbers). Only files the API has read (`ready`) are checked; `parts` is the thread's length.
 */
export function mediaIssues(
  items: readonly MediaItem[],
  platform: string,
  parts = 1,
  partName: (i: number) => string = (i) => `part ${i + 1}`,
): MediaIssue[] {
  const ready = items.filter((i) => i.state === 'ready' && i.facts)
  if (ready.length === 0) return []
  const p = platformName(platform)
  const rules = limitsFor(platform)
  if (!rules) return [{ key: null, message: `${p} does not publish uploaded files from Herald yet: leave it out, or remove the files.` }]
  const out: MediaIssue[] = []
  const byPart = new Map<number, MediaItem[]>()
  for (const item of ready) {
    const part = rules.per_part ? item.part : 0
    if (item.part && !rules.per_part) {
      out.push({ key: item.key, message: `${p} publishes one post: attach ${item.name} to ${partName(0)}.` })
    } else if (part >= parts) {
      out.push({ key: item.key, message: `${item.name} is on ${partName(part)}, which the thread does not have.` })
    }
    byPart.set(part, [...(byPart.get(part) ?? []), item])
    out.push(...fileIssues(rules, p, item))
  }
  for (const [part, group] of byPart) {
    out.push(...postIssues(rules, p, group, rules.per_part && parts > 1 ? partName(part) : 'the post'))
  }
  return out
}

function fileIssues(rules: PlatformLimits, p: string, item: MediaItem): MediaIssue[] {
  const facts = item.facts as MediaFacts
  const kind = effective(rules, facts)
  const rule = rules.kinds[kind]
  const say = (message: string) => ({ key: item.key, message })
  if (!rule) return [say(`${p} does not publish ${KIND_WORDS[kind][1]} (${item.name}).`)]
  const out: MediaIssue[] = []
  if (!rule.content_types.includes(facts.content_type)) {
    const takes = rule.content_types.map((t) => t.split('/')[1].toUpperCase()).join(', ')
    out.push(say(`${p} takes ${takes} for ${KIND_WORDS[kind][1]}; ${item.name} is ${facts.content_type.split('/')[1].toUpperCase()}.`))
  }
  if (facts.size > rule.max_size) {
    out.push(say(`${p} takes ${KIND_WORDS[kind][1]} up to ${sizeWords(rule.max_size)}; ${item.name} is ${sizeWords(facts.size)}.`))
  }
  if (facts.size < rule.min_size) {
    out.push(say(`${p} takes ${KIND_WORDS[kind][1]} from ${sizeWords(rule.min_size)}; ${item.name} is ${sizeWords(facts.size)}.`))
  }
  const ms = facts.duration_seconds == null ? null : Math.round(facts.duration_seconds * 1000)
  if (ms != null && rule.max_duration_ms != null && ms > rule.max_duration_ms) {
    out.push(say(`${p} takes videos up to ${seconds(rule.max_duration_ms)}; ${item.name} lasts ${seconds(ms)}.`))
  }
  if (ms != null && rule.min_duration_ms != null && ms < rule.min_duration_ms) {
    out.push(say(`${p} takes videos from ${seconds(rule.min_duration_ms)}; ${item.name} lasts ${seconds(ms)}.`))
  }
  const { width, height } = facts
  if (width && height) {
    const shown = `${item.name} is ${width}×${height}`
    if (rule.min_side != null && Math.min(width, height) < rule.min_side) {
      out.push(say(`${p} takes at least ${rule.min_side}×${rule.min_side} pixels; ${shown}.`))
    } else if (rule.max_pixels != null && width * height > rule.max_pixels) {
      out.push(say(`${p} takes at most ${rule.max_pixels.toLocaleString('en')} pixels; ${shown}.`))
    } else if (rule.ratio && !(rule.ratio[0] <= width / height && width / height <= rule.ratio[1])) {
      const r = (v: number) => (v < 1 ? `1:${+(1 / v).toFixed(2)}` : `${+v.toFixed(2)}:1`)
      out.push(say(`${p} takes an aspect ratio from ${r(rule.ratio[0])} to ${r(rule.ratio[1])}; ${shown}.`))
    }
  }
  if (rule.max_pages != null && facts.pages != null && facts.pages > rule.max_pages) {
    out.push(say(`${p} takes documents of up to ${rule.max_pages} pages; ${item.name} has ${facts.pages}.`))
  }
  const alt = item.alt.trim()
  if (alt && !rule.alt_text) {
    out.push(say(`${p} shows no description on ${KIND_WORDS[kind][1]}: leave it empty for ${item.name}.`))
  } else if (alt.length > rules.alt_text_max) {
    out.push(say(`${p} takes descriptions of up to ${rules.alt_text_max.toLocaleString('en')} characters; ${item.name}'s has ${alt.length.toLocaleString('en')}.`))
  }
  return out
}

function postIssues(rules: PlatformLimits, p: string, group: MediaItem[], where: string): MediaIssue[] {
  const out: MediaIssue[] = []
  const seen = new Set<string>()
  for (const item of group) {
    if (seen.has(item.media_id as string)) out.push({ key: item.key, message: `${item.name} is on ${where} twice.` })
    seen.add(item.media_id as string)
  }
  const kindsHere = group.map((i) => effective(rules, i.facts as MediaFacts))
  for (const kind of new Set(kindsHere)) {
    const rule = rules.kinds[kind]
    if (!rule) continue
    const count = kindsHere.filter((k) => k === kind).length
    if (rule.alone && group.length > 1) {
      out.push({ key: null, message: `${p} takes ${KIND_WORDS[kind][1]} alone: nothing else can go on ${where} beside it.` })
    } else if (count > rule.per_post) {
      out.push({ key: null, message: `${p} takes at most ${kinds(kind, rule.per_post)} on ${where}; there are ${count}.` })
    }
  }
  if (rules.max_total != null && group.length > rules.max_total && out.length === 0) {
    out.push({ key: null, message: `${p} takes at most ${rules.max_total} files on ${where}; there are ${group.length}.` })
  }
  return out
}

// --- how each network shows them --------------------------------------------------------------

export type Layout =
  | { shape: 'none' }
  | { shape: 'single'; kind: Kind }
  | { shape: 'grid'; cells: number; more: number } // shown at once, and "+N" on the last
  | { shape: 'carousel'; count: number } // one at a time, swiped
  | { shape: 'row'; count: number } // side by side, scrolled sideways
  | { shape: 'document'; pages: number | null }

/**
 * How `platform` lays these files out in its feed: X a grid of up to 4; LinkedIn one file, a
 * multi-image grid or a document viewer; Facebook a grid whose last cell says "+N"; Instagram a
 * carousel; Threads a row scrolled sideways.
 */
export function layoutFor(platform: string, items: readonly MediaItem[]): Layout {
  if (items.length === 0) return { shape: 'none' }
  const first = kindOf(items[0])
  if (items.length === 1) {
    return first === 'document' ? { shape: 'document', pages: items[0].facts?.pages ?? null } : { shape: 'single', kind: first }
  }
  switch (platform) {
    case 'x':
      return { shape: 'grid', cells: Math.min(4, items.length), more: 0 }
    case 'linkedin':
    case 'facebook':
      return { shape: 'grid', cells: Math.min(5, items.length), more: Math.max(0, items.length - 5) }
    case 'instagram':
      return { shape: 'carousel', count: items.length }
    case 'threads':
      return { shape: 'row', count: items.length }
    default:
      return { shape: 'grid', cells: Math.min(4, items.length), more: Math.max(0, items.length - 4) }
  }
}
