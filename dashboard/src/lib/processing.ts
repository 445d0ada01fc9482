// A platform still processing a post's files (X video and GIFs, LinkedIn video), in plain words:
// the API says `processing` on the target, with `processing_since`, and the post stays
// `publishing` until every target is out (docs/media.md).
import type { AttachmentOut, PostOut, TargetOut } from './api'
import { platformName, statusLabel } from './plain'

export function isProcessing(post: PostOut): boolean {
  return post.targets.some((t) => t.status === 'processing')
}

/** The post's label in lists: "Processing media" says more than "Publishing" while it waits. */
export function postStatusLabel(post: PostOut): string {
  return post.status === 'publishing' && isProcessing(post) ? 'Processing media' : statusLabel(post.status)
}

export function targetStatusLabel(target: TargetOut): string {
  return target.status === 'processing' ? 'Processing media' : statusLabel(target.status)
}

function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
}

/** What a person reads under a target that is processing; null for any other target. */
export function processingMessage(target: TargetOut): string | null {
  if (target.status !== 'processing') return null
  const p = platformName(target.platform)
  const since = target.processing_since ? ` since ${clock(target.processing_since)}` : ''
  return (
    `${p} is still processing the files${since}. Herald publishes the post there as soon as ` +
    `${p} is done, and says here if it cannot: nothing to do meanwhile.`
  )
}

const KIND: Record<AttachmentOut['kind'], string> = {
  image: 'Image',
  gif: 'GIF',
  video: 'Video',
  document: 'PDF',
}

/** One line per file of a post: "Image 1200×800, “A loaf on the counter”". */
export function attachmentLine(a: AttachmentOut, partName?: (i: number) => string): string {
  const bits = [KIND[a.kind]]
  if (a.width && a.height) bits.push(`${a.width}×${a.height}`)
  if (a.duration_seconds != null) bits.push(`${Math.round(a.duration_seconds)} s`)
  if (a.pages != null) bits.push(`${a.pages} pages`)
  let line = bits.join(' ')
  if (a.part && partName) line += `, with ${partName(a.part)}`
  if (a.alt_text) line += `, “${a.alt_text}”`
  return line
}
