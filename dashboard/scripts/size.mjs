// The built dashboard's size, raw and gzip (level 9), per file and in total.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

const root = new URL('../../layers/herald/herald/api/static/', import.meta.url).pathname
const files = []
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path)
    else files.push(path)
  }
}
walk(root)
let raw = 0
let gz = 0
for (const path of files.sort()) {
  const data = readFileSync(path)
  const zipped = gzipSync(data, { level: 9 }).length
  raw += data.length
  gz += zipped
  console.log(`${(data.length / 1024).toFixed(1).padStart(8)} kB ${(zipped / 1024).toFixed(1).padStart(7)} kB gz  ${path.slice(root.length)}`)
}
console.log(`${(raw / 1024).toFixed(1).padStart(8)} kB ${(gz / 1024).toFixed(1).padStart(7)} kB gz  total`)
