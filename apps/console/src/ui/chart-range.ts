/**
 * The time axis of a chart: a fixed span ending at the newest sample, so the axis reads as clock
 * times even with one sample; with none yet, the span ending now (not at 1970, uPlot's empty max).
 * Unix seconds.
 */
export function timeRangeOf(newestSeconds: number | null, spanSeconds: number, nowSeconds: number): [number, number] {
  const end = newestSeconds !== null && Number.isFinite(newestSeconds) && newestSeconds > 0 ? newestSeconds : nowSeconds;
  return [end - spanSeconds, end + spanSeconds / 50];
}
