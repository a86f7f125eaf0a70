// The screenshot run (`.ci/screenshots`): the browser tests' server and settings, but the
// scripts in screens/, which save pictures of the main views to artifacts/screens/.
import base from './playwright.config';
import { defineConfig } from '@playwright/test';

export default defineConfig({ ...base, testDir: './screens', timeout: 120_000, outputDir: 'test-results/screens' });
