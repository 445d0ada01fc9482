import { useEffect, useRef } from 'react'
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js'
import type { ChartDataset } from 'chart.js'

// Only what these charts draw, so the bundle carries no other chart type. Chart.js paints on a
// canvas and sets the canvas' size through CSSOM (`canvas.style.x = ...`), which a
// `style-src 'self'` Content-Security-Policy allows; it injects no <style> element.
Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  Legend,
)

export interface Series {
  label: string
  values: (number | null)[]
  color: string
  axis?: 'y' | 'y2'
  format?: (v: number | null) => string
}

/**
 * One chart, its numbers also in a table under it: people who cannot see the canvas (and tests)
 * read the same figures.
 */
export function ChartFigure({
  id,
  title,
  type,
  labels,
  series,
  y2Title,
  percentAxis,
}: {
  id: string
  title: string
  type: 'bar' | 'line'
  labels: string[]
  series: Series[]
  y2Title?: string
  percentAxis?: boolean
}) {
  const canvas = useRef<HTMLCanvasElement>(null)

  useEffect(() => {
    if (!canvas.current) return
    const datasets = series.map(
      (s) =>
        ({
          label: s.label,
          data: s.values,
          backgroundColor: s.color,
          borderColor: s.color,
          yAxisID: s.axis ?? 'y',
          spanGaps: true,
        }) as ChartDataset<'bar' | 'line', (number | null)[]>,
    )
    const chart = new Chart(canvas.current, {
      type,
      data: { labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: 'index', intersect: false },
        plugins: { legend: { position: 'bottom' } },
        scales: {
          y: {
            beginAtZero: true,
            ticks: percentAxis ? { callback: (v) => `${Math.round(Number(v) * 1000) / 10}%` } : {},
          },
          ...(y2Title
            ? {
                y2: {
                  beginAtZero: true,
                  position: 'right' as const,
                  grid: { drawOnChartArea: false },
                  title: { display: true, text: y2Title },
                },
              }
            : {}),
        },
      },
    })
    canvas.current.dataset.painted = '1'
    return () => chart.destroy()
  }, [type, labels, series, y2Title, percentAxis])

  const show = (s: Series, v: number | null) =>
    s.format ? s.format(v) : v === null ? '–' : v.toLocaleString('en-GB')
  return (
    <figure className="chart card" data-chart={id}>
      <figcaption>{title}</figcaption>
      <div className="chart-box">
        <canvas ref={canvas} role="img" aria-label={`${title} (the numbers are in the table below)`} />
      </div>
      <details>
        <summary>Numbers</summary>
        <table className="chart-data">
          <thead>
            <tr>
              <th scope="col"></th>
              {series.map((s) => (
                <th scope="col" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {labels.map((label, i) => (
              <tr key={label} data-label={label}>
                <th scope="row">{label}</th>
                {series.map((s) => (
                  <td key={s.label} data-series={s.label} data-value={s.values[i] ?? ''}>
                    {show(s, s.values[i])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  )
}
