import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react'
import { Calendar, dateFnsLocalizer } from 'react-big-calendar'
import type { View } from 'react-big-calendar'
import dragAndDrop from 'react-big-calendar/lib/addons/dragAndDrop'
import type { EventInteractionArgs } from 'react-big-calendar/lib/addons/dragAndDrop'
import { addDays, addMinutes, endOfDay, endOfMonth, endOfWeek, format, getDay, parse, startOfMonth, startOfWeek } from 'date-fns'
import { enUS } from 'date-fns/locale/en-US'
import 'react-big-calendar/lib/css/react-big-calendar.css'
import 'react-big-calendar/lib/addons/dragAndDrop/styles.css'
import { api } from '../lib/api'
import type { Account, PostOut } from '../lib/api'
import type { Go } from '../lib/nav'
import { platformName, statusLabel } from '../lib/plain'
import { browserZone, toWallTime } from '../lib/tz'
import { changeable, PostDialog, when } from './PostDialog'
import { useToasts } from './Toasts'

const localizer = dateFnsLocalizer({
  format,
  parse,
  startOfWeek: (d: Date) => startOfWeek(d, { weekStartsOn: 1 }),
  getDay,
  locales: { 'en-US': enUS },
})

interface Ev {
  id: string
  title: string
  start: Date
  end: Date
  post: PostOut
}

// The addon ships as CommonJS only; bundled as such, its default export can arrive wrapped once.
const withDragAndDrop = ((dragAndDrop as unknown as { default?: typeof dragAndDrop }).default ??
  dragAndDrop) as typeof dragAndDrop
const DnDCalendar = withDragAndDrop<Ev>(Calendar)

export const STATUSES = [
  'pending',
  'queued',
  'publishing',
  'published',
  'partially_published',
  'failed',
  'cancelled',
  'missed',
]

export function postTime(p: PostOut): Date {
  return new Date(p.scheduled_for ?? p.published_at ?? p.created_at)
}

function platformsOf(p: PostOut): string {
  return [...new Set(p.targets.map((t) => platformName(t.platform)))].join(', ')
}

function toEvent(p: PostOut): Ev {
  const start = postTime(p)
  const text = p.content.text || p.content.thread[0] || '(image)'
  // Half an hour long, but never past midnight: a post is an instant, not a two-day event.
  const end = new Date(Math.min(addMinutes(start, 30).getTime(), endOfDay(start).getTime()))
  return { id: p.post_id, title: `${platformsOf(p)}: ${text}`, start, end, post: p }
}

function range(date: Date, view: View): { from: Date; to: Date } {
  if (view === 'week') {
    return { from: startOfWeek(date, { weekStartsOn: 1 }), to: endOfWeek(date, { weekStartsOn: 1 }) }
  }
  return {
    from: startOfWeek(startOfMonth(date), { weekStartsOn: 1 }),
    to: endOfWeek(endOfMonth(date), { weekStartsOn: 1 }),
  }
}

type Mode = 'month' | 'week' | 'list'

// Short day headers and a 24-hour gutter keep seven columns readable at 390 px.
const FORMATS = {
  dayFormat: (d: Date) => format(d, 'EEEEEE d'),
  timeGutterFormat: (d: Date) => format(d, 'HH:mm'),
  eventTimeRangeFormat: ({ start }: { start: Date }) => format(start, 'HH:mm'),
}
const MORNING = new Date(1970, 0, 1, 7, 0)

// How far above the week's first post the week view opens, so the post is not on the edge.
const SCROLL_MARGIN_PX = 48

export default function CalendarView({
  businessId,
  accounts,
  version,
  go,
}: {
  businessId: string
  accounts: Account[]
  version: number
  go: Go
}) {
  const toasts = useToasts()
  const [mode, setMode] = useState<Mode>('month')
  const [date, setDate] = useState(() => new Date())
  const [posts, setPosts] = useState<PostOut[] | null>(null)
  // Which range `posts` holds: the week view scrolls only once its own week's posts are in.
  const [loadedFrom, setLoadedFrom] = useState<string | null>(null)
  const [open, setOpen] = useState<PostOut | null>(null)
  const [statusFilter, setStatusFilter] = useState<string>('')
  const [platformFilter, setPlatformFilter] = useState<string>('')
  const [reload, setReload] = useState(0)
  const firstRender = useRef(true)
  const scrolledFor = useRef<string | null>(null)
  const view: View = mode === 'week' ? 'week' : 'month'

  const load = useCallback(async () => {
    const { from, to } = range(date, view)
    performance.mark('calendar-fetch-start')
    try {
      // One window per week, fetched at once: the API pages by cursor, so one long range is a
      // chain of round trips, while six short ones run side by side.
      const windows: Date[] = []
      for (let t = from; t < to; t = addDays(t, 7)) windows.push(t)
      const pages = await Promise.all(
        windows.map((start, i) =>
          api.calendar(businessId, {
            from: start.toISOString(),
            to: (i + 1 < windows.length ? new Date(windows[i + 1].getTime() - 1) : to).toISOString(),
            status: mode === 'list' && statusFilter ? [statusFilter] : undefined,
            platform: mode === 'list' && platformFilter ? platformFilter : undefined,
          }),
        ),
      )
      const items = pages.flat()
      performance.mark('calendar-data')
      setPosts(items)
      setLoadedFrom(from.toISOString())
    } catch (error) {
      setPosts([])
      setLoadedFrom(null)
      toasts.error(error)
    }
  }, [businessId, date, view, mode, statusFilter, platformFilter, toasts])

  useEffect(() => {
    void load()
  }, [load, version, reload])

  // Time to first render: from the data's arrival to the browser painting the calendar.
  useLayoutEffect(() => {
    if (posts === null || !firstRender.current) return
    firstRender.current = false
    requestAnimationFrame(() =>
      setTimeout(() => {
        performance.mark('calendar-painted')
        performance.measure('calendar-render', 'calendar-data', 'calendar-painted')
        performance.measure('calendar-first-render', 'calendar-fetch-start', 'calendar-painted')
        document.body.dataset.calendarReady = '1'
      }, 0),
    )
  }, [posts])

  const events = useMemo(() => (posts ?? []).map(toEvent), [posts])

  // The week view opens on its first post (the calendar's own scrollToTime only applies when
  // it mounts, before the posts arrive): once per week shown, when its posts are in.
  useEffect(() => {
    const week = startOfWeek(date, { weekStartsOn: 1 }).toISOString()
    if (mode !== 'week' || loadedFrom !== week || scrolledFor.current === week) return
    const frame = requestAnimationFrame(() => {
      const content = document.querySelector<HTMLElement>('.rbc-time-content')
      if (!content) return
      scrolledFor.current = week
      const top = content.getBoundingClientRect().top
      const offsets = [...content.querySelectorAll<HTMLElement>('.rbc-event')].map(
        (e) => e.getBoundingClientRect().top - top + content.scrollTop,
      )
      if (offsets.length) content.scrollTop = Math.max(0, Math.min(...offsets) - SCROLL_MARGIN_PX)
    })
    return () => cancelAnimationFrame(frame)
  }, [mode, date, posts, loadedFrom])

  async function move({ event, start }: EventInteractionArgs<Ev>) {
    const when = new Date(start)
    const post = event.post
    if (!changeable(post)) return
    const zone = post.timezone || browserZone()
    const before = posts
    // Shown where it was dropped while the API decides; put back if it refuses.
    setPosts((ps) =>
      (ps ?? []).map((p) => (p.post_id === post.post_id ? { ...p, scheduled_for: when.toISOString() } : p)),
    )
    try {
      const updated = await api.reschedule(post.post_id, {
        scheduled_for: `${toWallTime(when, zone)}:00`,
        timezone: zone,
      })
      setPosts((ps) => (ps ?? []).map((p) => (p.post_id === updated.post_id ? updated : p)))
      toasts.ok('Rescheduled', `${toWallTime(when, zone).replace('T', ' ')} ${zone}`)
    } catch (error) {
      setPosts(before)
      toasts.error(error)
    }
  }

  const listed = useMemo(
    () =>
      (posts ?? []).filter(
        (p) =>
          (!statusFilter || p.status === statusFilter) &&
          (!platformFilter || p.targets.some((t) => t.platform === platformFilter)),
      ),
    [posts, statusFilter, platformFilter],
  )

  return (
    <section className="calendar">
      <div className="row wrap">
        <h2>Calendar</h2>
        <div className="segmented" role="tablist">
          {(['month', 'week', 'list'] as Mode[]).map((m) => (
            <button
              key={m}
              role="tab"
              aria-selected={mode === m}
              className={mode === m ? 'active' : ''}
              onClick={() => setMode(m)}
            >
              {m[0].toUpperCase() + m.slice(1)}
            </button>
          ))}
        </div>
      </div>
      <div className="legend">
        {['pending', 'queued', 'published', 'partially_published', 'failed', 'cancelled'].map((s) => (
          <span key={s} className={`ev-${s} legend-item`}>
            {statusLabel(s)}
          </span>
        ))}
      </div>
      {mode === 'list' ? (
        <div>
          <div className="row wrap gap filters">
            <button className="secondary" aria-label="Previous month" onClick={() => setDate(new Date(date.getFullYear(), date.getMonth() - 1, 1))}>
              ‹
            </button>
            <strong>{format(date, 'MMMM yyyy')}</strong>
            <button className="secondary" aria-label="Next month" onClick={() => setDate(new Date(date.getFullYear(), date.getMonth() + 1, 1))}>
              ›
            </button>
            <label>
              Status{' '}
              <select name="status" value={statusFilter} onChange={(e) => setStatusFilter(e.target.value)}>
                <option value="">all</option>
                {STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {statusLabel(s)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Platform{' '}
              <select name="platform" value={platformFilter} onChange={(e) => setPlatformFilter(e.target.value)}>
                <option value="">all</option>
                {['linkedin', 'x', 'facebook', 'instagram', 'threads'].map((k) => (
                  <option key={k} value={k}>
                    {platformName(k)}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <ul className="post-list" aria-label="Posts">
            {listed.map((p) => (
              <li key={p.post_id} data-post={p.post_id}>
                <button className="post-row" onClick={() => setOpen(p)}>
                  <span className="post-when">{when(postTime(p).toISOString())}</span>
                  <span className={`ev-${p.status} pill`}>{statusLabel(p.status)}</span>
                  <span className="post-platforms muted">{platformsOf(p)}</span>
                  <span className="post-text">{p.content.text || p.content.thread[0] || '(image)'}</span>
                  {p.published_at && (
                    <span className="post-published muted small">Published {when(p.published_at)}</span>
                  )}
                </button>
              </li>
            ))}
          </ul>
          {posts !== null && listed.length === 0 && (
            <div className="card empty" data-empty="list">
              {statusFilter || platformFilter ? (
                <>
                  <p>No post in {format(date, 'MMMM yyyy')} matches these filters.</p>
                  <button
                    className="secondary"
                    onClick={() => {
                      setStatusFilter('')
                      setPlatformFilter('')
                    }}
                  >
                    Show every post
                  </button>
                </>
              ) : (
                <EmptyMonth date={date} go={go} />
              )}
            </div>
          )}
        </div>
      ) : (
        <div className="cal-wrap">
          {posts !== null && posts.length === 0 && (
            <div className="empty cal-empty" data-empty="calendar">
              <EmptyMonth date={date} go={go} week={mode === 'week'} />
            </div>
          )}
          <DnDCalendar
            localizer={localizer}
            events={events}
            date={date}
            view={view}
            views={['month', 'week']}
            onView={(v) => setMode(v === 'week' ? 'week' : 'month')}
            onNavigate={(d) => setDate(d)}
            toolbar
            popup
            draggableAccessor={(e) => changeable(e.post)}
            resizable={false}
            onEventDrop={move}
            onSelectEvent={(e) => setOpen(e.post)}
            eventPropGetter={(e) => ({ className: `ev-${e.post.status}` })}
            style={{ height: mode === 'week' ? 720 : 680 }}
            formats={FORMATS}
            scrollToTime={MORNING}
          />
        </div>
      )}
      {open && (
        <PostDialog
          post={open}
          accounts={accounts}
          onClose={() => setOpen(null)}
          onChanged={() => {
            setOpen(null)
            setReload((n) => n + 1)
          }}
        />
      )}
    </section>
  )
}

function EmptyMonth({ date, go, week = false }: { date: Date; go: Go; week?: boolean }) {
  const period = week ? 'this week' : `in ${format(date, 'MMMM yyyy')}`
  return (
    <>
      <p>Nothing is planned {period}. Write a post and schedule it: it shows here, and goes out on its own.</p>
      <button onClick={() => go('compose')}>Write a post</button>
    </>
  )
}
