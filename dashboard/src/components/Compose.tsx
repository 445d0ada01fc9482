import { useMemo, useState } from 'react'
import { api } from '../lib/api'
import type { Account, PostOut } from '../lib/api'
import { limitsFor, limitsSummary, mediaBody, mediaIssues, ofPart } from '../lib/media'
import type { MediaItem } from '../lib/media'
import type { Platform } from '../lib/counters'
import type { Go } from '../lib/nav'
import { commentMessage, namesFrom, partLabel, platformName, targetMessage } from '../lib/plain'
import { commentFor, countsFor, partsFor, takesOwnText, variantsBody } from '../lib/variants'
import type { NetworkVersion, Versions } from '../lib/variants'
import { browserZone, fromWallTime, nextValidWallTime, toWallTime } from '../lib/tz'
import { MediaPicker } from './MediaPicker'
import { MediaPreview } from './MediaPreview'
import { useToasts } from './Toasts'
import { ZoneSelect } from './ZoneSelect'

interface Outcome {
  state: 'publishing' | 'published' | 'failed' | 'other'
  url?: string | null
  reason?: string | null
  status?: string
  comment?: string | null // the first comment's outcome, in words
}
type Progress = Record<string, Outcome>

function defaultWall(zone: string): string {
  return toWallTime(new Date(Date.now() + 60 * 60 * 1000), zone)
}

/** "Sun 29 Mar, 03:00": a wall time as a person reads it, whatever zone it is in. */
export function wallLabel(wall: string): string {
  const [date, time] = wall.split('T')
  const day = new Date(`${date}T12:00:00Z`)
  const named = day.toLocaleDateString(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    timeZone: 'UTC',
  })
  return `${named}, ${time.slice(0, 5)}`
}

/** The date-and-time input's warning in a daylight-saving gap, with the time to use instead. */
export function GapWarning({
  wall,
  zone,
  onUse,
}: {
  wall: string
  zone: string
  onUse: (wall: string) => void
}) {
  const next = nextValidWallTime(wall, zone)
  return (
    <div className="gap-warning small" role="status" data-dst-gap>
      <p className="bad">
        {wallLabel(wall)} does not exist in {zone}: the clocks jump forward over it that night.
      </p>
      {next && (
        <button className="secondary" onClick={() => onUse(next)}>
          Use {wallLabel(next)} instead
        </button>
      )}
    </div>
  )
}

export function Compose({
  accounts,
  loading = false,
  onScheduled,
  go,
}: {
  accounts: Account[]
  loading?: boolean
  onScheduled: () => void
  go: Go
}) {
  const toasts = useToasts()
  const usable = accounts.filter((a) => a.status !== 'needs_reauth')
  const [thread, setThread] = useState(false)
  const [parts, setParts] = useState<string[]>([''])
  const [imageUrl, setImageUrl] = useState('')
  const [selected, setSelected] = useState<string[]>([])
  const [zone, setZone] = useState(browserZone())
  const [wall, setWall] = useState(() => defaultWall(browserZone()))
  const [busy, setBusy] = useState(false)
  const [progress, setProgress] = useState<Progress | null>(null)
  const [files, setFiles] = useState<MediaItem[]>([])
  const [firstComment, setFirstComment] = useState('')
  const [versions, setVersions] = useState<Versions>({})
  const [network, setNetwork] = useState<Platform | 'all'>('all')

  const targets = usable.filter((a) => selected.includes(a.account_id))
  const platforms = [...new Set(targets.map((a) => a.platform))] as Platform[]
  const texts = thread ? parts : [parts[0]]
  // A part is a tweet on X and a post on Threads: named for the platforms that chain it.
  const chaining = platforms.filter((p) => p === 'x' || p === 'threads')
  const part = (i: number) => partLabel(chaining, i)
  const partWord = part(0).split(' ')[0].toLowerCase()
  const counts = useMemo(
    () => countsFor(platforms, texts, thread, versions, imageUrl.trim(), firstComment),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [platforms.join(), texts.join('\u0000'), thread, versions, imageUrl, firstComment],
  )
  // The tab of a network no longer picked falls back to every network's.
  const active: Platform | 'all' = network !== 'all' && platforms.includes(network) ? network : 'all'
  const own: NetworkVersion = (active !== 'all' && versions[active]) || { text: '', first_comment: '' }

  function setOwn(platform: Platform, change: Partial<NetworkVersion>) {
    setVersions((v) => ({
      ...v,
      [platform]: { text: '', first_comment: '', ...v[platform], ...change },
    }))
  }
  // A platform that gives each tweet its own files (X) is in a thread: files go with a part.
  const chainedThread = thread && platforms.some((p) => p === 'x' || p === 'threads')
  const perPart = chainedThread && platforms.some((p) => limitsFor(p)?.per_part)
  const partCount = chainedThread ? parts.length : 1
  const partName = part
  const issues = platforms.flatMap((p) =>
    mediaIssues(files, p, partCount, partName).map((issue) => ({ ...issue, platform: p })),
  )
  const unsettled = files.some((f) => f.state !== 'ready')
  const blocked =
    counts.some((c) => c.over || c.notes.length > 0) ||
    targets.length === 0 ||
    issues.length > 0 ||
    unsettled
  // A wall time in a daylight-saving gap never happens: Schedule waits for one that does.
  const instant = wall ? fromWallTime(wall, zone) : null

  function body(): Record<string, unknown> {
    const b: Record<string, unknown> = { account_ids: targets.map((a) => a.account_id) }
    const chained = platforms.filter((p) => p === 'x' || p === 'threads')
    if (thread && chained.length > 0) b.thread = parts
    // X and Threads publish the thread; the text goes only where a target takes one (the API
    // refuses a text nobody would publish).
    if (!b.thread || chained.length < platforms.length) b.text = texts.join('\n\n')
    if (imageUrl.trim()) b.image_url = imageUrl.trim()
    if (files.length > 0) b.media = mediaBody(files, perPart)
    if (firstComment.trim()) b.first_comment = firstComment
    const variants = variantsBody(platforms, thread, versions)
    if (Object.keys(variants).length > 0) b.variants = variants
    return b
  }

  /** What was sent leaves the form; the targets stay picked for the next post. */
  function clearForm() {
    setThread(false)
    setParts([''])
    setImageUrl('')
    for (const f of files) if (f.thumb) URL.revokeObjectURL(f.thumb)
    setFiles([])
    setFirstComment('')
    setVersions({})
    setNetwork('all')
  }

  function toggle(id: string) {
    setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]))
  }

  async function publishNow() {
    setBusy(true)
    setProgress(Object.fromEntries(targets.map((a) => [a.account_id, { state: 'publishing' }])))
    // On a phone the outcome sits below the form: bring it into view.
    requestAnimationFrame(() =>
      document.querySelector('.progress')?.scrollIntoView({ block: 'nearest', behavior: 'smooth' }),
    )
    try {
      const post: PostOut = await api.publish(body())
      const names = namesFrom(accounts)
      const next: Progress = {}
      for (const t of post.targets) {
        const reason = targetMessage(t, names)
        next[t.account_id] = {
          state: t.status === 'published' ? 'published' : reason ? 'failed' : 'other',
          url: t.url,
          reason,
          status: t.status,
          comment: commentMessage(t),
        }
      }
      setProgress(next)
      const ok = post.targets.filter((t) => t.status === 'published').length
      const waiting = post.targets.filter((t) => t.status === 'processing').length
      if (ok === post.targets.length) toasts.ok('Published', `${ok} of ${post.targets.length} targets`)
      else if (ok + waiting === post.targets.length) {
        toasts.ok('Sent', `${waiting} of ${post.targets.length} still processing the files`)
      }
      else toasts.fail(`Published to ${ok} of ${post.targets.length}`, 'Each target below says why, and what to do.')
      // Out on at least one account, the post is done here (the others retry from the
      // calendar); refused everywhere, it stays in the form to be fixed and sent again.
      if (ok + waiting > 0) clearForm()
    } catch (error) {
      setProgress(null)
      toasts.error(error)
    } finally {
      setBusy(false)
    }
  }

  async function schedule() {
    setBusy(true)
    try {
      await api.schedule({ ...body(), scheduled_for: `${wall}:00`, timezone: zone })
      toasts.ok('Scheduled', `${wallLabel(wall)} (${zone})`)
      clearForm()
      setWall(defaultWall(zone))
      onScheduled()
    } catch (error) {
      toasts.error(error)
    } finally {
      setBusy(false)
    }
  }

  return (
    <section className="compose">
      <h2>Compose</h2>
      <div className="grid2">
        <div>
          <fieldset>
            <legend>Targets</legend>
            {!loading && usable.length === 0 && (
              <div className="empty" data-empty="targets">
                <p>
                  {accounts.length === 0
                    ? 'Herald publishes to the accounts you connect, and none is connected yet.'
                    : 'Every connected account needs reconnecting before it can publish again.'}
                </p>
                <button onClick={() => go('accounts')}>
                  {accounts.length === 0 ? 'Connect an account' : 'Reconnect on Accounts'}
                </button>
              </div>
            )}
            <div className="targets">
              {usable.map((a) => (
                <label key={a.account_id} className="check">
                  <input
                    type="checkbox"
                    name="target"
                    value={a.account_id}
                    checked={selected.includes(a.account_id)}
                    onChange={() => toggle(a.account_id)}
                  />
                  <span className={`badge p-${a.platform}`}>{platformName(a.platform)}</span> {a.display_name}
                </label>
              ))}
            </div>
          </fieldset>

          {platforms.length > 0 && (
            <div className="network-tabs" role="tablist" aria-label="Each network's version">
              {(['all', ...platforms] as const).map((p) => (
                <button
                  key={p}
                  role="tab"
                  aria-selected={active === p}
                  className={`tab ${active === p ? 'active' : ''}`}
                  data-network-tab={p}
                  onClick={() => setNetwork(p)}
                >
                  {p === 'all' ? 'All networks' : platformName(p)}
                  {p !== 'all' && (versions[p]?.text.trim() || versions[p]?.first_comment.trim()) ? ' •' : ''}
                </button>
              ))}
            </div>
          )}

          {active === 'all' ? (
            <>
              <label className="check">
                <input
                  type="checkbox"
                  checked={thread}
                  onChange={(e) => {
                    setThread(e.target.checked)
                    if (!e.target.checked) setParts([parts[0]])
                  }}
                />
                Thread on X and Threads (one box per post; other platforms get them joined)
              </label>

              {(thread ? parts : [parts[0]]).map((p, i) => (
                <label key={i} className="block">
                  {thread ? <span className="part-label">{part(i)}</span> : 'Text'}
                  <textarea
                    name={thread ? `tweet-${i}` : 'text'}
                    rows={thread ? 3 : 6}
                    value={p}
                    onChange={(e) => setParts(parts.map((x, j) => (j === i ? e.target.value : x)))}
                  />
                  {thread && parts.length > 1 && (
                    <button className="link" onClick={() => setParts(parts.filter((_, j) => j !== i))}>
                      Remove {partWord}
                    </button>
                  )}
                </label>
              ))}
              {thread && parts.length < 25 && (
                <button className="secondary" onClick={() => setParts([...parts, ''])}>
                  Add {partWord}
                </button>
              )}

              <label className="block">
                First comment (optional: published right after the post, under it)
                <textarea
                  name="first_comment"
                  rows={2}
                  value={firstComment}
                  onChange={(e) => setFirstComment(e.target.value)}
                />
              </label>
            </>
          ) : (
            <div className="network-version" data-network={active}>
              {takesOwnText(active, thread) ? (
                <label className="block">
                  Text on {platformName(active)}
                  <textarea
                    name="network_text"
                    rows={6}
                    value={own.text}
                    placeholder={`Empty: ${platformName(active)} publishes the text of every network`}
                    onChange={(e) => setOwn(active, { text: e.target.value })}
                  />
                </label>
              ) : (
                <p className="muted small">{platformName(active)} publishes the thread written for every network.</p>
              )}
              <label className="block">
                First comment on {platformName(active)}
                <textarea
                  name="network_first_comment"
                  rows={2}
                  value={own.first_comment}
                  placeholder={firstComment ? `Empty: "${firstComment.slice(0, 40)}"` : 'Empty: none'}
                  onChange={(e) => setOwn(active, { first_comment: e.target.value })}
                />
              </label>
              <div className="counters" aria-label={`Counters for ${platformName(active)}`}>
                {counts
                  .filter((c) => c.platform === active)
                  .map((c, i) => (
                    <div key={i} className={`counter ${c.over ? 'over' : ''}`} data-network-counter={c.label}>
                      <span>{c.label}</span>
                      <span>
                        {c.used} / {c.limit}
                      </span>
                    </div>
                  ))}
              </div>
            </div>
          )}

          <label className="block">
            Image URL
            <input
              name="image_url"
              type="url"
              value={imageUrl}
              placeholder="https://…"
              onChange={(e) => setImageUrl(e.target.value)}
            />
          </label>

          <MediaPicker
            items={files}
            setItems={setFiles}
            parts={partCount}
            partName={partName}
            perPart={perPart}
          />
          {files.length > 0 && platforms.length > 0 && (
            <div className="media-limits small" aria-label="What each platform takes" data-media-limits>
              {platforms.map((p) => (
                <p key={p} className="muted">
                  {limitsSummary(p)}
                </p>
              ))}
              {issues.map((issue, i) => (
                <p key={i} className="bad" data-media-issue={issue.platform}>
                  {issue.message}
                </p>
              ))}
              {unsettled && (
                <p className="muted" data-media-waiting>
                  {files.some((f) => f.state === 'failed' || f.state === 'rejected')
                    ? 'Remove the files that could not be uploaded before sending.'
                    : 'Sending waits until every file is uploaded and read.'}
                </p>
              )}
            </div>
          )}

          <div className="counters" aria-label="Counters">
            {counts.map((c, i) => (
              <div key={i} className={`counter ${c.over ? 'over' : ''}`} data-counter={c.label}>
                <span>{c.label}</span>
                <span>
                  {c.used} / {c.limit}
                </span>
                {c.notes.map((n) => (
                  <span key={n} className="note">
                    {n}
                  </span>
                ))}
              </div>
            ))}
          </div>

          <div className="actions">
            <button onClick={publishNow} disabled={busy || blocked}>
              Publish now
            </button>
          </div>

          <fieldset className="when">
            <legend>Schedule</legend>
            <div className="row wrap gap">
              <label>
                Date and time
                <input
                  name="scheduled_for"
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
            {instant ? (
              <p className="muted small">
                = {instant.toLocaleString()} in your browser's zone ({browserZone()})
              </p>
            ) : (
              wall && <GapWarning wall={wall} zone={zone} onUse={setWall} />
            )}
            <button onClick={schedule} disabled={busy || blocked || !instant}>
              Schedule
            </button>
          </fieldset>
        </div>

        <div>
          <h3>Previews</h3>
          {platforms.length === 0 && <p className="muted">Pick a target to see its preview.</p>}
          {platforms.map((p) => (
            <div key={p} className={`preview card p-${p}`} data-preview={p}>
              <div className={`badge p-${p}`}>{platformName(p)}</div>
              {partsFor(p, texts, thread, versions).map((t, i) => (
                <div key={i} className="preview-part">
                  <p className="preview-text">{t || <span className="muted">(empty)</span>}</p>
                  <MediaPreview
                    platform={p}
                    items={limitsFor(p)?.per_part && chainedThread ? ofPart(files, i) : i === 0 ? files : []}
                  />
                </div>
              ))}
              {files.length > 0 && !limitsFor(p) && (
                <p className="muted small">Herald does not publish uploaded files to {platformName(p)} yet: this is how it would show them.</p>
              )}
              {imageUrl && <img src={imageUrl} alt="" loading="lazy" />}
              {commentFor(p, firstComment, versions).trim() && (
                <p className="preview-comment small" data-preview-comment={p}>
                  <span className="muted">First comment: </span>
                  {commentFor(p, firstComment, versions)}
                </p>
              )}
            </div>
          ))}

          {progress && (
            <div className="progress card" aria-label="Publishing progress">
              <h3>Outcome</h3>
              <ul>
                {Object.entries(progress).map(([id, p]) => {
                  const a = accounts.find((x) => x.account_id === id)
                  return (
                    <li key={id} className={`outcome ${p.state}`} data-outcome={id}>
                      <span className={`badge p-${a?.platform}`}>{platformName(a?.platform)}</span>{' '}
                      {a?.display_name ?? 'An account'}:{' '}
                      {p.state === 'publishing' && <span className="spinner">publishing…</span>}
                      {p.state === 'published' &&
                        (p.url ? (
                          <a href={p.url} target="_blank" rel="noreferrer">
                            published — view post
                          </a>
                        ) : (
                          'published'
                        ))}
                      {p.state === 'failed' && <span className="bad reason">{p.reason}</span>}
                      {p.state === 'other' && (
                        <span data-status={p.status}>
                          {p.status === 'processing'
                            ? `${platformName(a?.platform)} is processing the files: Herald publishes the post as soon as it is done (the calendar shows when).`
                            : p.status === 'publishing'
                              ? 'still publishing'
                              : 'queued'}
                      </span>
                      )}
                      {p.comment && (
                        <span className="small comment-outcome" data-comment-outcome={id}>
                          {' '}
                          ({p.comment})
                        </span>
                      )}
                    </li>
                  )
                })}
              </ul>
            </div>
          )}
        </div>
      </div>
    </section>
  )
}
