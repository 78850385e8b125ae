// Debian's Chromium, headless, as every browser suite here launches it (Playwright cannot download
// a browser on these machines). Without the background-networking flags Chromium keeps dialling
// Google's hosts, which this closed network refuses.
import { chromium } from "playwright-core";

export const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
];

/** Launches Chromium with the shared flags plus `extraArgs`. */
export function launchChromium(extraArgs = []) {
  return chromium.launch({ executablePath: chromiumPath, args: [...CHROMIUM_ARGS, ...extraArgs], timeout: 30_000 });
}
