import { useMemo } from 'react'
import { allZones } from '../lib/tz'

export function ZoneSelect({ value, onChange }: { value: string; onChange: (z: string) => void }) {
  const zones = useMemo(allZones, [])
  return (
    <select name="timezone" value={value} onChange={(e) => onChange(e.target.value)}>
      {zones.map((z) => (
        <option key={z} value={z}>
          {z}
        </option>
      ))}
    </select>
  )
}
