// Errors and outcomes in plain language: what happened and what to do about it, in the person's
// words. Never an id, an error kind or a field name of the API: those are for programs. The API's
// shapes are what `GET /api/v1/posts/{id}` and its problems carry today; this maps from them.
import type { Account, PostOut, TargetOut } from './api'
import { BadPathValue } from './api'
import { ApiError } from './problem'
import { ERROR_KIND_WORDS, FIELD_CODE_WORDS, PROBLEM_WORDS } from './words'

export const PLATFORM_NAMES: Record<string, string> = {
  linkedin: 'LinkedIn',
  x: 'X',
  facebook: 'Facebook',
  instagram: 'Instagram',
  threads: 'Threads',
  meta: 'Facebook & Instagram',
}

export function platformName(platform: string | undefined): string {
  return (platform && PLATFORM_NAMES[platform]) || 'The platform'
}

export const STATUS_LABELS: Record<string, string> = {
  pending: 'Scheduled',
  queued: 'Sending soon',
  publishing: 'Publishing',
  published: 'Published',
  partially_published: 'Partly published',
  failed: 'Failed',
  cancelled: 'Cancelled',
  missed: 'Missed',
  unconfirmed: 'Not confirmed',
}

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status.replace(/_/g, ' ')
}

/** Who an account id is, for a person: the business's own accounts by name. */
export interface Names {
  account(id: string): Account | undefined
}

export const NO_NAMES: Names = { account: () => undefined }

export function namesFrom(accounts: readonly Account[]): Names {
  const byId = new Map(accounts.map((a) => [a.account_id, a]))
  return { account: (id) => byId.get(id) }
}

function accountLabel(account: Account): string {
  return `${account.display_name} on ${platformName(account.platform)}`
}

const ID = /\b(acc|post|biz|evt|key|media)_[0-9a-z]{8,}\b/g
const API_WORDS: [RegExp, string][] = [
  [/\bscheduled_for\b/g, 'the time'],
  [/\bimage_url\b/g, 'the image address'],
  [/\btimezone\b/g, 'the time zone'],
  [/\baccount_ids\b/g, 'the targets'],
  [/\bthread\b(?=\[)/g, 'the thread'],
]

/** A sentence from the API with its ids named (or left out) and its field names in words. */
export function scrub(text: string, names: Names = NO_NAMES): string {
  const named = (id: string, prefix: string): string => {
    const account = prefix === 'acc' ? names.account(id) : undefined
    if (account) return accountLabel(account)
    return (
      { acc: 'an account', post: 'this post', biz: 'this business', evt: 'an event', key: 'a key', media: 'the file' }[
        prefix
      ] ?? 'it'
    )
  }
  let out = text
    .replace(/\bunknown account acc_[0-9a-z]{8,}\b/g, 'an account that is not connected')
    .replace(/\b(?:account|post|business|API key) ((acc|post|biz|key)_[0-9a-z]{8,})\b/g, (_, id: string, prefix: string) =>
      named(id, prefix),
    )
  out = out.replace(ID, (id, prefix: string) => named(id, prefix))
  for (const [pattern, words] of API_WORDS) out = out.replace(pattern, words)
  // 2026-03-29T03:00:00 -> 2026-03-29 03:00
  out = out.replace(/(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::00(?:\.0+)?)?/g, '$1 $2')
  return out.trim()
}

function sentence(text: string): string {
  const t = text.trim()
  if (!t) return t
  const upper = t[0].toUpperCase() + t.slice(1)
  return /[.!?]$/.test(upper) ? upper : `${upper}.`
}

/** The platform's own words in a target's error: `x: duplicate (187): Status is a duplicate.` */
function platformWords(lastError: string | null, names: Names): string | null {
  if (!lastError) return null
  const m = /^[a-z]+: [a-z_]+(?: \([^)]*\))?: (.+)$/s.exec(lastError)
  const words = scrub(m ? m[1] : lastError, names)
  if (!words) return null
  return words.length > 180 ? `${words.slice(0, 177)}…` : words
}

/**
 * Why a target was not published, and what to do. Null for a target that is published or still
 * on its way.
 */
export function targetMessage(target: TargetOut, names: Names = NO_NAMES): string | null {
  const p = platformName(target.platform)
  if (target.status === 'unconfirmed' || target.error_kind === 'ambiguous') {
    return (
      `${p} may have published this post but did not confirm it: look at the account on ${p} ` +
      'before you retry, so it is not posted twice.'
    )
  }
  if (target.status !== 'failed') return null
  const words = platformWords(target.last_error, names)
  const kind = target.error_kind ?? 'platform_error'
  if (kind === 'platform_error' && !names.account(target.account_id)) {
    return (
      'The account was disconnected from Herald before the post went out: connect it again ' +
      'on the Accounts page, then retry.'
    )
  }
  return (ERROR_KIND_WORDS[kind] ?? ERROR_KIND_WORDS.platform_error)(p, words)
}

/** A target's first comment in a few words, or null when it has none. */
export function commentMessage(target: TargetOut): string | null {
  const comment = target.first_comment
  if (!comment) return null
  switch (comment.status) {
    case 'published':
      return 'first comment posted'
    case 'failed':
      return comment.error_kind === 'auth_revoked'
        ? 'first comment not posted: reconnect the account, then retry the post'
        : 'first comment not posted: retry the post to try it again'
    case 'unconfirmed':
      return 'first comment may be posted: look under the post before you retry'
    default:
      return 'first comment on its way'
  }
}

/** What a person should know about the post as a whole (a missed or failed one). */
export function postMessage(post: PostOut): string | null {
  if (post.status === 'missed') {
    return (
      'This post was not sent: Herald was not running at its time, and found it too late to ' +
      'send. Schedule it again if it still matters.'
    )
  }
  if (post.status === 'failed') return 'No account published this post: each one says why below.'
  if (post.status === 'partially_published') {
    return 'Some accounts published this post and some did not: each one says why below.'
  }
  return null
}

/** Why an account needs a person, from its status (its reason text is for programs). */
export function accountMessage(account: Account): string | null {
  const p = platformName(account.platform)
  if (account.status === 'needs_reauth') {
    return `${p} no longer accepts Herald's access to this account (it was revoked or it expired): reconnect it to publish again.`
  }
  if (account.status === 'expiring') {
    const when = /\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?/.exec(account.status_reason ?? '')
    const date = when ? new Date(when[0]) : null
    const by = date && !Number.isNaN(date.getTime()) ? ` on ${date.toLocaleDateString()}` : ' soon'
    return `${p}'s access to this account ends${by}: reconnect it before then so scheduled posts keep going out.`
  }
  return null
}

// --- problems from the API -------------------------------------------------------------------

export interface Plain {
  title: string
  detail?: string
  fields: string[]
}

const FIELD_WORDS: Record<string, string> = {
  text: 'Text',
  image_url: 'Image URL',
  link: 'Link',
  first_comment: 'First comment',
  scheduled_for: 'Date and time',
  timezone: 'Time zone',
  fold: 'Date and time',
  account_ids: 'Targets',
  from: 'From',
  to: 'To',
  cursor: 'Page',
  'Idempotency-Key': 'Request',
}

function fieldLabel(field: string | undefined, names: Names): string | null {
  if (!field || field === 'body') return null
  const parts = field.split('.')
  let who: string | null = null
  let platform: string | undefined
  if (parts[0] === 'variants' && parts.length > 1) {
    // variants.platform:x.text or variants.account:acc_....text: that network's own version.
    parts.shift()
    const [kind, id] = parts.shift()!.split(':')
    const account = kind === 'account' ? names.account(id) : undefined
    platform = kind === 'platform' ? id : account?.platform
    who = kind === 'platform' ? `${platformName(id)} version` : account ? `${accountLabel(account)} version` : "An account's version"
  } else if (/^acc_/.test(parts[0])) {
    const account = names.account(parts.shift()!)
    who = account ? accountLabel(account) : 'An account'
    platform = account?.platform
  } else if (PLATFORM_NAMES[parts[0]]) {
    platform = parts.shift()
    who = platformName(platform)
  }
  const rest = parts.join('.')
  const tweet = /^thread\[(\d+)\]$/.exec(rest)
  // media[i], media[i].alt_text, media[i].part: the post's files, counted from 1 as Compose lists them
  const file = /^media\[(\d+)\](?:\.(alt_text|part))?$/.exec(rest)
  const what = tweet
    ? partLabel(platform, Number(tweet[1]))
    : file
      ? `File ${Number(file[1]) + 1}${file[2] === 'alt_text' ? ' description' : file[2] === 'part' ? ' part' : ''}`
      : (FIELD_WORDS[rest.replace(/\[\d+\]$/, '')] ?? (rest ? rest.replace(/_/g, ' ') : null))
  if (who && what) return `${who}, ${what.toLowerCase()}`
  return who ?? what
}

/**
 * One part of a thread as the platform calls it: a tweet on X, a post on Threads ("Part" when
 * the parts go to both, or the platform is not known). `index` counts from 0.
 */
export function partLabel(platform: string | readonly string[] | undefined, index: number): string {
  const platforms = typeof platform === 'string' ? [platform] : [...new Set(platform ?? [])]
  const word = platforms.length === 1 ? ({ x: 'Tweet', threads: 'Post' }[platforms[0]] ?? 'Part') : 'Part'
  return `${word} ${index + 1}`
}

function waitFor(seconds: number | undefined): string {
  if (!seconds || seconds <= 0) return 'a little while'
  if (seconds < 90) return `${Math.ceil(seconds)} seconds`
  const minutes = Math.ceil(seconds / 60)
  return minutes < 90 ? `${minutes} minutes` : `${Math.ceil(minutes / 60)} hours`
}

function slug(type: string | undefined): string {
  return (type ?? '').split('/').pop() ?? ''
}

/** Any error the dashboard can meet, as a toast a person can act on. */
export function explain(error: unknown, names: Names = NO_NAMES): Plain {
  if (error instanceof BadPathValue) {
    return { title: 'That link is not valid', detail: 'Reload the page and try again.', fields: [] }
  }
  if (error instanceof TypeError) {
    return {
      title: 'Herald could not be reached',
      detail: 'Check your connection (and that Herald is running), then try again.',
      fields: [],
    }
  }
  if (!(error instanceof ApiError)) {
    return { title: 'Something went wrong', detail: 'Reload the page and try again.', fields: [] }
  }
  const p = error.problem
  const detail = p.detail ? sentence(scrub(p.detail, names)) : undefined
  const fields = (p.errors ?? [])
    .map((e) => {
      const label = fieldLabel(e.field, names)
      const message = e.message ? scrub(e.message, names) : 'not accepted'
      const todo = e.code ? FIELD_CODE_WORDS[e.code] : undefined
      const said = todo && !message.endsWith(todo) ? `${message} — ${todo}` : message
      return label ? `${label}: ${said}` : sentence(said)
    })
    .filter(Boolean)
  // The type's last segment is the code (`invalid-input` is `invalid_input`); a body that is
  // not a problem falls back on its status.
  const code = slug(p.type).replace(/-/g, '_')
  const byStatus: Record<number, string> = {
    401: 'unauthorized',
    404: 'not_found',
    409: 'conflict',
    413: 'content_too_large',
    422: 'invalid_input',
    429: 'rate_limited',
    502: 'platform_unavailable',
    503: 'dependency_unavailable',
  }
  const known = PROBLEM_WORDS[code] ? code : byStatus[error.status]
  const words = known ? PROBLEM_WORDS[known] : undefined
  if (error.status === 422 || known === 'invalid_input' || known === 'validation_error') {
    // "2 problem(s) with this post" says less than the list below it.
    return { title: 'Some details need changing', detail: fields.length ? undefined : detail, fields }
  }
  if (error.status === 429 || known === 'rate_limited') {
    return {
      title: 'Too many requests for now',
      detail: `Herald limits how often a business can publish and connect accounts: try again in ${waitFor(error.retryAfter)}.`,
      fields: [],
    }
  }
  if (known === 'conflict') {
    return { title: words!.title, detail: `${detail ?? ''} ${words!.detail}`.trim(), fields: [] }
  }
  if (known === 'idempotency_conflict') return { title: words!.title, detail: detail ?? words!.detail, fields: [] }
  if (!words) {
    if (error.status >= 500) return { ...PROBLEM_WORDS.internal_error, fields: [] }
    return { title: 'That did not work', detail, fields }
  }
  return { ...words, fields: error.status === 502 ? fields : [] }
}
