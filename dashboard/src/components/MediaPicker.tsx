import { useEffect, useRef, useState } from 'react'
import type { Dispatch, DragEvent, KeyboardEvent, SetStateAction } from 'react'
import { api } from '../lib/api'
import { UploadFailed, kindOf, move, movedWords, sendToBucket, sizeWords } from '../lib/media'
import type { MediaItem, MediaOut } from '../lib/media'
import { explain } from '../lib/plain'

// What Herald reads (herald.media.inspect); the platforms' own limits are checked per target.
const ACCEPT = 'image/jpeg,image/png,image/gif,image/webp,video/mp4,video/quicktime,application/pdf'
const DRAGGED = 'application/x-herald-media'

let counter = 0
function newKey(): string {
  counter += 1
  return `m${Date.now().toString(36)}${counter}`
}

const STATE_WORDS: Record<MediaItem['state'], string> = {
  uploading: 'Uploading',
  checking: 'Reading the file…',
  ready: 'Ready',
  rejected: 'Cannot be published',
  failed: 'Not uploaded',
}

/** The file as the API read it: ready with its facts, or refused with why. */
function settled(out: MediaOut): Partial<MediaItem> {
  if (out.status === 'ready' && out.kind && out.content_type && out.size != null) {
    return {
      state: 'ready',
      facts: {
        kind: out.kind,
        content_type: out.content_type,
        size: out.size,
        width: out.width,
        height: out.height,
        duration_seconds: out.duration_seconds,
        animated: out.animated,
        pages: out.pages,
      },
    }
  }
  return { state: 'rejected', problem: out.reason || 'Herald cannot publish this kind of file.' }
}

export function Thumb({ item, className = 'thumb' }: { item: MediaItem; className?: string }) {
  const kind = kindOf(item)
  if (item.thumb && (kind === 'image' || kind === 'gif')) {
    return <img className={className} src={item.thumb} alt={item.alt || ''} />
  }
  if (item.thumb && kind === 'video') {
    // The first frame is the poster: the element shows it once the metadata is read.
    return <video className={className} src={`${item.thumb}#t=0.1`} muted playsInline preload="metadata" aria-label={item.alt || item.name} />
  }
  return (
    <div className={`${className} doc-icon`} aria-hidden="true">
      {kind === 'document' ? 'PDF' : kind === 'video' ? '▶' : '▣'}
    </div>
  )
}

export function MediaPicker({
  items,
  setItems,
  parts,
  partName,
  perPart,
}: {
  items: MediaItem[]
  setItems: Dispatch<SetStateAction<MediaItem[]>>
  parts: number
  partName: (i: number) => string
  perPart: boolean
}) {
  const [over, setOver] = useState(false)
  const [said, setSaid] = useState('')
  const focusAfterMove = useRef<string | null>(null)
  const handles = useRef(new Map<string, HTMLButtonElement>())

  useEffect(() => {
    const key = focusAfterMove.current
    if (key) {
      handles.current.get(key)?.focus()
      focusAfterMove.current = null
    }
  })

  function update(key: string, patch: Partial<MediaItem>) {
    setItems((all) => all.map((i) => (i.key === key ? { ...i, ...patch } : i)))
  }

  async function upload(file: File, key: string) {
    try {
      const created = await api.createMedia(file.name)
      update(key, { media_id: created.media_id })
      await sendToBucket(created.upload, file, (progress) => update(key, { progress }))
      update(key, { state: 'checking' })
      // The API reads the file on the first look after the upload; S3 has it by then.
      for (let attempt = 0; attempt < 10; attempt++) {
        const out = await api.media(created.media_id)
        if (out.status !== 'awaiting_upload') {
          update(key, settled(out))
          return
        }
        await new Promise((r) => setTimeout(r, 300 * (attempt + 1)))
      }
      update(key, { state: 'failed', problem: 'Storage has not received the file: add it again.' })
    } catch (error) {
      const problem = error instanceof UploadFailed ? error.message : explain(error).title
      update(key, { state: 'failed', problem })
    }
  }

  function add(files: FileList | File[]) {
    const picked = [...files].map((file) => ({
      file,
      item: {
        key: newKey(),
        name: file.name,
        type: file.type,
        size: file.size,
        state: 'uploading',
        progress: 0,
        thumb: /^(image|video)\//.test(file.type) ? URL.createObjectURL(file) : null,
        alt: '',
        part: 0,
      } satisfies MediaItem,
    }))
    setItems((all) => [...all, ...picked.map((p) => p.item)])
    for (const p of picked) void upload(p.file, p.item.key)
  }

  function remove(item: MediaItem) {
    setItems((all) => all.filter((i) => i.key !== item.key))
    if (item.thumb) URL.revokeObjectURL(item.thumb)
    // Unused uploads expire on their own: deleting now is a courtesy, and may fail quietly.
    if (item.media_id) api.deleteMedia(item.media_id).catch(() => {})
    setSaid(`${item.name} removed`)
  }

  function moveTo(from: number, to: number) {
    if (to < 0 || to >= items.length || from === to) return
    const item = items[from]
    setItems(move(items, from, to))
    focusAfterMove.current = item.key
    setSaid(movedWords(item.name, to, items.length))
  }

  function onHandleKey(e: KeyboardEvent, index: number) {
    const delta = { ArrowUp: -1, ArrowLeft: -1, ArrowDown: 1, ArrowRight: 1 }[e.key]
    if (delta) {
      e.preventDefault()
      moveTo(index, index + delta)
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault()
      moveTo(index, e.key === 'Home' ? 0 : items.length - 1)
    }
  }

  function onDropZone(e: DragEvent) {
    e.preventDefault()
    setOver(false)
    if (e.dataTransfer.files.length > 0) add(e.dataTransfer.files)
  }

  function onDropItem(e: DragEvent, index: number) {
    const key = e.dataTransfer.getData(DRAGGED)
    if (!key) return // files dropped on the list: the zone around it takes them
    e.preventDefault()
    e.stopPropagation()
    moveTo(
      items.findIndex((i) => i.key === key),
      index,
    )
  }

  return (
    <fieldset
      className={`media-picker ${over ? 'over' : ''}`}
      data-dropzone
      onDragOver={(e) => {
        if ([...e.dataTransfer.types].includes('Files')) {
          e.preventDefault()
          setOver(true)
        }
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDropZone}
    >
      <legend>Files</legend>
      <div className="dropzone">
        <span className="muted small">Drop images, videos or PDFs here, or</span>
        <label className="button secondary file-button">
          Choose files
          <input
            type="file"
            name="files"
            multiple
            accept={ACCEPT}
            onChange={(e) => {
              if (e.target.files) add(e.target.files)
              e.target.value = ''
            }}
          />
        </label>
      </div>
      {items.length > 1 && (
        <p className="muted small" id="media-order-help">
          Published in this order: drag a file, or focus its handle and use the arrow keys.
        </p>
      )}
      <ol className="media-list" aria-label="Files, in the order they are published">
        {items.map((item, index) => (
          <li
            key={item.key}
            className={`media-item ${item.state}`}
            data-media={item.name}
            data-media-id={item.media_id}
            draggable
            onDragStart={(e) => {
              e.dataTransfer.setData(DRAGGED, item.key)
              e.dataTransfer.effectAllowed = 'move'
            }}
            onDragOver={(e) => {
              if ([...e.dataTransfer.types].includes(DRAGGED)) e.preventDefault()
            }}
            onDrop={(e) => onDropItem(e, index)}
          >
            <button
              type="button"
              className="handle"
              ref={(el) => {
                if (el) handles.current.set(item.key, el)
                else handles.current.delete(item.key)
              }}
              aria-label={`Reorder ${item.name}, position ${index + 1} of ${items.length}`}
              aria-describedby={items.length > 1 ? 'media-order-help' : undefined}
              onKeyDown={(e) => onHandleKey(e, index)}
            >
              ⠿
            </button>
            <Thumb item={item} />
            <div className="media-body">
              <div className="media-name">
                <strong>{item.name}</strong> <span className="muted small">{sizeWords(item.size)}</span>
              </div>
              {item.state === 'uploading' ? (
                <div className="upload-progress">
                  <progress max={1} value={item.progress} aria-label={`Uploading ${item.name}`} />
                  <span className="small">{Math.round(item.progress * 100)}%</span>
                </div>
              ) : (
                <span className={`small media-state ${item.state}`} data-state={item.state}>
                  {STATE_WORDS[item.state]}
                  {item.problem ? `: ${item.problem}` : ''}
                </span>
              )}
              <label className="block">
                Description (alt text)
                <input
                  name="alt_text"
                  value={item.alt}
                  placeholder="What the picture shows, for people who cannot see it"
                  onChange={(e) => update(item.key, { alt: e.target.value })}
                />
              </label>
              <div className="row wrap gap media-actions">
                {perPart && parts > 1 && (
                  <label className="inline">
                    Goes with
                    <select
                      name="part"
                      value={item.part}
                      onChange={(e) => update(item.key, { part: Number(e.target.value) })}
                    >
                      {Array.from({ length: parts }, (_, i) => (
                        <option key={i} value={i}>
                          {partName(i)}
                        </option>
                      ))}
                    </select>
                  </label>
                )}
                <button
                  type="button"
                  className="link"
                  disabled={index === 0}
                  aria-label={`Move ${item.name} earlier`}
                  onClick={() => moveTo(index, index - 1)}
                >
                  ↑ Earlier
                </button>
                <button
                  type="button"
                  className="link"
                  disabled={index === items.length - 1}
                  aria-label={`Move ${item.name} later`}
                  onClick={() => moveTo(index, index + 1)}
                >
                  ↓ Later
                </button>
                <button type="button" className="link" aria-label={`Remove ${item.name}`} onClick={() => remove(item)}>
                  Remove
                </button>
              </div>
            </div>
          </li>
        ))}
      </ol>
      <p className="visually-hidden" aria-live="polite" data-media-said>
        {said}
      </p>
    </fieldset>
  )
}
