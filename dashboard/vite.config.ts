/// <reference types="vitest/config" />
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

// Served by the API at /app (one origin: no CORS, and the API key never crosses origins).
export default defineConfig({
  base: '/app/',
  plugins: [react()],
  build: {
    outDir: '../layers/herald/herald/api/static',
    emptyOutDir: true,
    chunkSizeWarningLimit: 400,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8000' } },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
})
