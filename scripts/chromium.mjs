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

const UNHANDLED = "__oblien_test_unhandled_rejection__ ";

/**
 * Reports every uncaught error AND every unhandled promise rejection of `page` to `onError`: the
 * browser suites fail on either. (Playwright's `pageerror` alone misses unhandled rejections.)
 */
export async function watchPage(page, onError) {
  page.on("pageerror", (err) => onError(String((err && (err.stack || err.message)) || err)));
  page.on("console", (msg) => {
    const text = msg.text();
    if (text.startsWith(UNHANDLED)) onError(`unhandled rejection: ${text.slice(UNHANDLED.length)}`);
  });
  await page.addInitScript((marker) => {
    addEventListener("unhandledrejection", (event) => {
      const reason = event.reason;
      console.error(marker + String((reason && (reason.stack || reason.message)) || reason));
    });
  }, UNHANDLED);
}
