import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { timeRangeOf } from './chart-range.js';

export interface TimeChartProps {
  readonly title: string;
  /** Sample times, Unix seconds, ascending. */
  readonly times: readonly number[];
  readonly values: readonly (number | null)[];
  /** Formats a value for the caption and the accessible summary (with its unit). */
  readonly format: (value: number | null) => string;
  /** The time span shown, seconds: the x axis ends at the newest sample. */
  readonly spanSeconds: number;
  /** A series where anything above 0 is bad (errors, open breakers): drawn in the warning colour. @default false */
  readonly warning?: boolean;
}

const HEIGHT_PX = 120;

/** Time axis labels: the clock alone (one line; the span is minutes). */
const axisClock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** Axis labels: the number alone (the caption says the unit), short. */
function axisNumber(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 1000) return `${Math.round(value / 100) / 10}k`;
  if (Math.abs(value) >= 10) return String(Math.round(value));
  return String(Math.round(value * 100) / 100);
}

function cssColor(element: Element, property: string, fallback: string): string {
  const value = getComputedStyle(element).getPropertyValue(property).trim();
  return value === '' ? fallback : value;
}

/**
 * A small live line chart (uPlot, drawn on a canvas): the latest value in its caption, and a text
 * summary for screen readers (`role="img"` with a label), since a canvas says nothing by itself.
 */
export function TimeChart({ title, times, values, format, spanSeconds, warning = false }: TimeChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = container.current;
    if (element === null) return undefined;
    const line = cssColor(element, warning ? '--chart-warning' : '--chart-line', warning ? '#b3261e' : '#1f4e8c');
    const grid = cssColor(element, '--chart-grid', 'rgba(127,127,127,0.25)');
    const text = cssColor(element, '--text-muted', '#555');
    const plot = new uPlot(
      {
        width: Math.max(element.clientWidth, 200),
        height: HEIGHT_PX,
        legend: { show: false },
        cursor: { show: false },
        scales: {
          x: { time: true, range: (_self, _min, max) => timeRangeOf(max, spanSeconds, Date.now() / 1000) },
          y: { range: (_self, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
        },
        axes: [
          { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { show: false }, size: 28, values: (_self, ticks) => ticks.map((tick) => axisClock.format(tick * 1000)) },
          { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { show: false }, size: 52, values: (_self, ticks) => ticks.map(axisNumber) },
        ],
        series: [{}, { label: title, stroke: line, width: 2, fill: `color-mix(in srgb, ${line} 12%, transparent)`, spanGaps: false, points: { show: true, size: 4 } }],
      },
      [[], []],
      element,
    );
    chart.current = plot;
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(element.clientWidth, 200), height: HEIGHT_PX }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
      chart.current = null;
    };
    // The chart is built once per title; new samples go through setData below.
  }, [title, warning, spanSeconds]);

  useEffect(() => {
    chart.current?.setData([[...times], [...values]]);
  }, [times, values]);

  const latest = values.length === 0 ? null : (values[values.length - 1] ?? null);
  const alarming = warning && latest !== null && latest > 0;
  const summary = `${title}: ${values.length === 0 ? 'no samples yet' : `now ${format(latest)}, ${values.length} samples`}`;
  return (
    <figure class={alarming ? 'chart chart-warning' : 'chart'}>
      <figcaption>
        <span class="chart-title">{title}</span>
        <span class="chart-now" data-testid="chart-now">
          {format(latest)}
        </span>
      </figcaption>
      <div class="chart-canvas" ref={container} role="img" aria-label={summary} />
    </figure>
  );
}
