import { defineConfig } from '@playwright/test';

// The server is started by .ci/test (a fresh database each run); these tests only drive it.
const baseURL = process.env.HOOKHUB_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  testDir: './tests',
  // One worker runs the files in alphabetical order: dashboard.spec.ts sets up the admin that
  // the later files (sending.spec.ts) log in with.
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
