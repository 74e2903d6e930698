/**
 * Small builders for Grafana dashboard JSON (schema 39, Grafana 10.4 and later), so the dashboard is
 * written as data — titles, queries, units — and the ids, grid positions and the repeated panel
 * boilerplate are computed. Hand-written rather than a Grafana SDK: the dashboard needs four panel
 * types and no dependency should enter the repository for it.
 */

/** Every query goes to the data source picked in the `datasource` variable. */
export const DATASOURCE = Object.freeze({ type: 'prometheus', uid: '${datasource}' });

export interface Query {
  readonly expr: string;
  /** Legend template, e.g. `{{route}}`. */
  readonly legend?: string;
  /** Instant query (stat panels); range otherwise. */
  readonly instant?: boolean;
}

export type Unit = 'reqps' | 'percentunit' | 's' | 'bytes' | 'short' | 'none' | 'ops';

export interface Threshold {
  readonly value: number | null;
  readonly color: string;
}

export interface ValueMapping {
  readonly value: number;
  readonly text: string;
  readonly color: string;
}

interface PanelBase {
  readonly title: string;
  readonly description: string;
  readonly queries: readonly Query[];
  readonly unit?: Unit;
  /** Grid width, out of 24. */
  readonly width: number;
  /** Grid height. @default 8 */
  readonly height?: number;
  readonly thresholds?: readonly Threshold[];
  readonly min?: number;
  readonly max?: number;
}

export interface TimeseriesPanel extends PanelBase {
  readonly kind: 'timeseries';
  readonly stacked?: boolean;
  readonly bars?: boolean;
  /** Draw the thresholds as dashed lines. */
  readonly showThresholds?: boolean;
}

export interface StatPanel extends PanelBase {
  readonly kind: 'stat';
  readonly mappings?: readonly ValueMapping[];
}

export interface StateTimelinePanel extends PanelBase {
  readonly kind: 'state-timeline';
  readonly mappings: readonly ValueMapping[];
}

export type PanelSpec = TimeseriesPanel | StatPanel | StateTimelinePanel;

export interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

type Json = Record<string, unknown>;

const DEFAULT_HEIGHT = 8;
const GRID_WIDTH = 24;

function thresholdsJson(thresholds: readonly Threshold[] | undefined): Json {
  const steps = thresholds ?? [{ value: null, color: 'green' }];
  return { mode: 'absolute', steps: steps.map((step) => ({ color: step.color, value: step.value })) };
}

function mappingsJson(mappings: readonly ValueMapping[] | undefined): Json[] {
  if (mappings === undefined || mappings.length === 0) return [];
  const options: Json = {};
  mappings.forEach((mapping, index) => {
    options[String(mapping.value)] = { color: mapping.color, index, text: mapping.text };
  });
  return [{ type: 'value', options }];
}

function targetsJson(queries: readonly Query[]): Json[] {
  return queries.map((query, index) => ({
    datasource: DATASOURCE,
    editorMode: 'code',
    expr: query.expr,
    legendFormat: query.legend ?? '__auto',
    range: query.instant !== true,
    instant: query.instant === true,
    refId: String.fromCharCode(65 + index),
  }));
}

function defaultsJson(panel: PanelSpec): Json {
  const defaults: Json = {
    unit: panel.unit ?? 'short',
    thresholds: thresholdsJson(panel.thresholds),
    mappings: mappingsJson(panel.kind === 'timeseries' ? undefined : panel.mappings),
    color: { mode: panel.kind === 'timeseries' ? 'palette-classic' : 'thresholds' },
  };
  if (panel.min !== undefined) defaults.min = panel.min;
  if (panel.max !== undefined) defaults.max = panel.max;
  if (panel.kind === 'timeseries') {
    defaults.custom = {
      drawStyle: panel.bars === true ? 'bars' : 'line',
      lineWidth: 1,
      fillOpacity: panel.bars === true || panel.stacked === true ? 60 : 10,
      showPoints: 'never',
      spanNulls: false,
      stacking: { mode: panel.stacked === true ? 'normal' : 'none', group: 'A' },
      thresholdsStyle: { mode: panel.showThresholds === true ? 'dashed' : 'off' },
    };
  } else if (panel.kind === 'state-timeline') {
    defaults.custom = { fillOpacity: 80, lineWidth: 0 };
    defaults.color = { mode: 'fixed', fixedColor: 'green' };
  }
  return defaults;
}

function optionsJson(panel: PanelSpec): Json {
  switch (panel.kind) {
    case 'timeseries':
      return {
        legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['mean', 'max', 'lastNotNull'] },
        tooltip: { mode: 'multi', sort: 'desc' },
      };
    case 'stat':
      return { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'area', justifyMode: 'auto', orientation: 'auto', textMode: 'auto' };
    case 'state-timeline':
      return { mergeValues: true, showValue: 'auto', alignValue: 'left', rowHeight: 0.9, legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'single', sort: 'none' } };
  }
}

/**
 * Lays the rows out top to bottom and their panels left to right, wrapping at 24 columns; ids are
 * assigned in reading order, so the JSON is the same on every run.
 */
export function layoutPanels(rows: readonly RowSpec[]): Json[] {
  const panels: Json[] = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: GRID_WIDTH, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const panel of row.panels) {
      if (!Number.isInteger(panel.width) || panel.width < 1 || panel.width > GRID_WIDTH) throw new TypeError(`panel "${panel.title}": width must be an integer from 1 to ${GRID_WIDTH}`);
      if (panel.queries.length === 0) throw new TypeError(`panel "${panel.title}": queries must not be empty`);
      const height = panel.height ?? DEFAULT_HEIGHT;
      if (x + panel.width > GRID_WIDTH) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      panels.push({
        id: id++,
        type: panel.kind,
        title: panel.title,
        description: panel.description,
        datasource: DATASOURCE,
        gridPos: { h: height, w: panel.width, x, y },
        fieldConfig: { defaults: defaultsJson(panel), overrides: [] },
        options: optionsJson(panel),
        targets: targetsJson(panel.queries),
      });
      x += panel.width;
      lineHeight = Math.max(lineHeight, height);
    }
    y += lineHeight;
  }
  return panels;
}

export interface VariableSpec {
  readonly name: string;
  readonly label: string;
  /** A `label_values(selector, label)` query. */
  readonly query: string;
  /** Offer "All" and several values at once. */
  readonly multi: boolean;
  /** The value selected when the dashboard opens. @default All (multi) or the first value */
  readonly defaultValue?: string;
}

/** The `datasource` variable, then one query variable per spec, refreshed when the time range changes. */
export function templatingJson(variables: readonly VariableSpec[]): Json {
  const datasource = { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1, regex: '', options: [], includeAll: false, multi: false };
  const queries = variables.map((variable) => {
    const current = variable.defaultValue !== undefined ? { selected: true, text: variable.defaultValue, value: variable.defaultValue } : variable.multi ? { selected: true, text: ['All'], value: ['$__all'] } : {};
    return {
      name: variable.name,
      label: variable.label,
      type: 'query',
      datasource: DATASOURCE,
      definition: variable.query,
      query: { qryType: 1, query: variable.query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
      current,
      includeAll: variable.multi,
      multi: variable.multi,
      ...(variable.multi ? { allValue: '.*' } : {}),
      refresh: 2,
      sort: 1,
      hide: 0,
      regex: '',
      options: [],
    };
  });
  return { list: [datasource, ...queries] };
}
