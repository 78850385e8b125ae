// The statistics every benchmark scenario shares (bench/run.mjs, socket.mjs, crosstab.mjs).

const sorted = (xs) => [...xs].sort((a, b) => a - b);
export const median = (xs) => {
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** Nearest-rank percentile. */
export const pct = (xs, p) => {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
export const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const sum = (xs) => xs.reduce((a, b) => a + b, 0);
export const summary = (xs) => ({ n: xs.length, median: median(xs), mean: mean(xs), p90: pct(xs, 90), p99: pct(xs, 99), min: Math.min(...xs), max: Math.max(...xs) });
export const round3 = (xs) => xs.map((x) => Math.round(x * 1000) / 1000);
