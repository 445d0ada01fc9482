import { useEffect, useState } from 'react'
import { api } from '../lib/api'
import type { Account, PostOut } from '../lib/api'
import { namesFrom, partLabel, platformName, postMessage, statusLabel, targetMessage } from '../lib/plain'
import { browserZone, fromWallTime, toWallTime } from '../lib/tz'
import { GapWarning } from './Compose'
import { PostMetrics } from './PostMetrics'
import { useToasts } from './Toasts'
import { ZoneSelect } from './ZoneSelect'

/** "Tue 3 Dec 2026, 09:10": an instant in the browser's zone. */
export function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  })
}

/**
 * Whether a post can still be edited, moved or cancelled: the API allows it until the worker
 * claims it, so a post already queued for its second (up to a few minutes early) still can.
 */
export function changeable(post: PostOut): boolean {
  return post.status === 'pending' || post.status === 'queued'
}

export function PostDialog({
  post,
  accounts,
  onClose,
  onChanged,
}: {
  post: PostOut
  accounts: Account[]
  onClose: () => void
  onChanged: () => void
}) {
  const toasts = useToasts()
  const editable = changeable(post)
  const threaded = post.content.thread.length > 0
  // Thread parts are tweets on X and posts on Threads: named for the targets that chain them.
  const chaining = post.targets.map((t) => t.platform).filter((p) => p === 'x' || p === 'threads')
  const [parts, setParts] = useState<string[]>(post.content.thread)
  const initialZone = post.timezone || browserZone()
  const [zone, setZone] = useState(initialZone)
  const initialWall = post.scheduled_for ? toWallTime(new Date(post.scheduled_for), initialZone) : ''
  const [wall, setWall] = useState(initialWall)
  const [text, setText] = useState(post.content.text)
  const [busy, setBusy] = useState(false)
  const names = namesFrom(accounts)
  const about = postMessage(post)
  const exists = !wall || fromWallTime(wall, zone) !== null

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose()
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [onClose])

  async function run(action: () => Promise<unknown>, message: string) {
    setBusy(true)
    try {
      await action()
      toasts.ok(message)
      onChanged()
    } catch (error) {
      toasts.error(error)
    } finally {
      setBusy(false)
    }
  }

  const save = () => {
    const body: Record<string, unknown> = {}
    // Only a changed time is sent: the wall time has no seconds, and a new time sends a queued
    // post back to wait for it, so a text edit would otherwise move and requeue it.
    if (wall !== initialWall || zone !== initialZone) {
      body.scheduled_for = `${wall}:00`
      body.timezone = zone
    }
    if (text !== post.content.text) body.text = text
    if (threaded && parts.some((p, i) => p !== post.content.thread[i])) body.thread = parts
    return run(() => api.reschedule(post.post_id, body), 'Post updated')
  }

  return (
    <div className="backdrop" onClick={onClose}>
      <div
        className="dialog card"
        role="dialog"
        aria-modal="true"
        aria-label="Post"
        onClick={(e) => e.stopPropagation()}
      >
        <div className="row">
          <h3>
            Post <span className={`ev-${post.status} pill`}>{statusLabel(post.status)}</span>
          </h3>
          <button className="link" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </div>
        <dl className="times small">
          {post.scheduled_for && (
            <>
              <dt>Scheduled for</dt>
              <dd>{when(post.scheduled_for)}</dd>
            </>
          )}
          {post.published_at && (
            <>
              <dt>Published</dt>
              <dd data-published-at={post.published_at}>{when(post.published_at)}</dd>
            </>
          )}
        </dl>
        {about && <p className="bad">{about}</p>}
        {post.status === 'queued' && (
          <p className="muted small" data-queued>
            Herald is about to send this post: it can still be changed or cancelled until sending starts.
          </p>
        )}
        {editable ? (
          <>
            {(!threaded || post.content.text) && (
              <label className="block">
                Text
                <textarea name="edit-text" rows={4} value={text} onChange={(e) => setText(e.target.value)} />
              </label>
            )}
            {parts.map((part, i) => (
              <label key={i} className="block">
                {partLabel(chaining, i)}
                <textarea
                  name={`edit-thread-${i}`}
                  rows={3}
                  value={part}
                  onChange={(e) => setParts(parts.map((x, j) => (j === i ? e.target.value : x)))}
                />
              </label>
            ))}
            <div className="row wrap gap">
              <label>
                Date and time
                <input
                  name="edit-scheduled_for"
                  type="datetime-local"
                  value={wall}
                  onChange={(e) => setWall(e.target.value)}
                />
              </label>
              <label>
                Time zone
                <ZoneSelect value={zone} onChange={setZone} />
              </label>
            </div>
            {!exists && <GapWarning wall={wall} zone={zone} onUse={setWall} />}
          </>
        ) : (
          <>
            {post.content.text && <p className="preview-text">{post.content.text}</p>}
            {post.content.thread.map((part, i) => (
              <p key={i} className="preview-text" data-part={i}>
                <span className="muted small">{partLabel(chaining, i)}</span>
                <br />
                {part}
              </p>
            ))}
          </>
        )}
        <h4>Targets</h4>
        <ul className="targets-out">
          {post.targets.map((t) => {
            const a = names.account(t.account_id)
            const reason = targetMessage(t, names)
            return (
              <li key={t.account_id} data-target={t.account_id}>
                <span className={`badge p-${t.platform}`}>{platformName(t.platform)}</span>{' '}
                {a?.display_name ?? 'A disconnected account'}: <strong>{statusLabel(t.status)}</strong>
                {t.published_at && <span className="muted small"> {when(t.published_at)}</span>}
                {t.url && (
                  <>
                    {' '}
                    <a href={t.url} target="_blank" rel="noreferrer">
                      view post
                    </a>
                  </>
                )}
                {reason && <div className="bad small reason">{reason}</div>}
              </li>
            )
          })}
        </ul>
        {(post.status === 'published' || post.status === 'partially_published') && (
          <PostMetrics postId={post.post_id} accounts={accounts} />
        )}
        <div className="row wrap gap actions">
          {editable && (
            <>
              <button onClick={save} disabled={busy || !wall || !exists}>
                Save
              </button>
              <button
                className="danger"
                disabled={busy}
                onClick={() => run(() => api.cancel(post.post_id), 'Post cancelled')}
              >
                Cancel post
              </button>
            </>
          )}
          {(post.status === 'failed' || post.status === 'partially_published') && (
            <button disabled={busy} onClick={() => run(() => api.retry(post.post_id), 'Retry sent')}>
              Retry failed targets
            </button>
          )}
          <button className="secondary" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  )
}
