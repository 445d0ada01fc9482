import { useState } from 'react'
import { layoutFor } from '../lib/media'
import type { MediaItem } from '../lib/media'
import { Thumb } from './MediaPicker'

/**
 * The files as `platform` lays them out in its feed (lib/media.ts `layoutFor`): X's grid of up to
 * four, LinkedIn's and Facebook's grid with "+N", LinkedIn's document viewer, Instagram's carousel
 * (one at a time, with dots), Threads' row scrolled sideways.
 */
export function MediaPreview({ platform, items }: { platform: string; items: MediaItem[] }) {
  const layout = layoutFor(platform, items)
  const [shown, setShown] = useState(0)
  switch (layout.shape) {
    case 'none':
      return null
    case 'single':
      return (
        <div className={`mp mp-single mp-${platform}`} data-layout="single">
          <Thumb item={items[0]} className="mp-cell" />
        </div>
      )
    case 'document':
      return (
        <div className={`mp mp-document mp-${platform}`} data-layout="document">
          <div className="mp-doc-page">
            <Thumb item={items[0]} className="mp-cell" />
          </div>
          <div className="mp-doc-bar small">
            <span>{items[0].name}</span>
            <span>{layout.pages ? `${layout.pages} pages` : 'Document'}</span>
          </div>
        </div>
      )
    case 'grid':
      return (
        <div
          className={`mp mp-grid mp-${platform} cells-${layout.cells}`}
          data-layout="grid"
          data-cells={layout.cells}
        >
          {items.slice(0, layout.cells).map((item, i) => (
            <div key={item.key} className="mp-slot">
              <Thumb item={item} className="mp-cell" />
              {layout.more > 0 && i === layout.cells - 1 && <span className="mp-more">+{layout.more}</span>}
            </div>
          ))}
        </div>
      )
    case 'carousel': {
      const at = Math.min(shown, layout.count - 1)
      return (
        <div className={`mp mp-carousel mp-${platform}`} data-layout="carousel" data-count={layout.count}>
          <div className="mp-slot">
            <Thumb item={items[at]} className="mp-cell" />
            <span className="mp-count small">
              {at + 1}/{layout.count}
            </span>
            <button type="button" className="mp-prev" aria-label="Previous file" disabled={at === 0} onClick={() => setShown(at - 1)}>
              ‹
            </button>
            <button
              type="button"
              className="mp-next"
              aria-label="Next file"
              disabled={at === layout.count - 1}
              onClick={() => setShown(at + 1)}
            >
              ›
            </button>
          </div>
          <div className="mp-dots" aria-hidden="true">
            {items.map((item, i) => (
              <span key={item.key} className={i === at ? 'on' : ''} />
            ))}
          </div>
        </div>
      )
    }
    case 'row':
      return (
        <div className={`mp mp-row mp-${platform}`} data-layout="row" data-count={layout.count}>
          {items.map((item) => (
            <Thumb key={item.key} item={item} className="mp-cell" />
          ))}
        </div>
      )
  }
}
