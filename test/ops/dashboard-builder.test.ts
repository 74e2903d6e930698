import { describe, expect, it } from 'vitest';
import { layoutPanels, templatingJson, type PanelSpec } from '../../deploy/scripts/dashboard/panels.js';

/** The builders behind deploy/grafana/bulwark.json. */

const panel = (title: string, width: number, height = 8): PanelSpec => ({ kind: 'timeseries', title, description: title, width, height, queries: [{ expr: 'up' }] });

describe('layoutPanels', () => {
  it('lays panels left to right, wraps at 24 columns below the tallest panel of the line, and numbers everything in reading order', () => {
    const laid = layoutPanels([
      { title: 'A', panels: [panel('a1', 12, 4), panel('a2', 12, 6), panel('a3', 8)] },
      { title: 'B', panels: [panel('b1', 24)] },
    ]);
    expect(laid.map((item) => [item.id, item.type, item.title, item.gridPos])).toEqual([
      [1, 'row', 'A', { h: 1, w: 24, x: 0, y: 0 }],
      [2, 'timeseries', 'a1', { h: 4, w: 12, x: 0, y: 1 }],
      [3, 'timeseries', 'a2', { h: 6, w: 12, x: 12, y: 1 }],
      [4, 'timeseries', 'a3', { h: 8, w: 8, x: 0, y: 7 }],
      [5, 'row', 'B', { h: 1, w: 24, x: 0, y: 15 }],
      [6, 'timeseries', 'b1', { h: 8, w: 24, x: 0, y: 16 }],
    ]);
  });

  it('gives each query a refId and the datasource variable', () => {
    const [, laid] = layoutPanels([{ title: 'A', panels: [{ ...panel('p', 6), queries: [{ expr: 'a' }, { expr: 'b', legend: '{{x}}', instant: true }] }] }]);
    expect(laid?.targets).toEqual([
      { datasource: { type: 'prometheus', uid: '${datasource}' }, editorMode: 'code', expr: 'a', legendFormat: '__auto', range: true, instant: false, refId: 'A' },
      { datasource: { type: 'prometheus', uid: '${datasource}' }, editorMode: 'code', expr: 'b', legendFormat: '{{x}}', range: false, instant: true, refId: 'B' },
    ]);
  });

  it('refuses a panel wider than the grid, of no width, or without a query', () => {
    for (const width of [0, 25, 1.5, Number.NaN]) expect(() => layoutPanels([{ title: 'A', panels: [panel('bad', width)] }])).toThrow(/panel "bad": width must be an integer from 1 to 24/);
    expect(() => layoutPanels([{ title: 'A', panels: [{ ...panel('empty', 6), queries: [] }] }])).toThrow(TypeError);
  });
});

describe('templatingJson', () => {
  it('puts the datasource variable first and makes multi-value variables default to All', () => {
    const { list } = templatingJson([
      { name: 'job', label: 'Job', query: 'label_values(up, job)', multi: false, defaultValue: 'bulwark' },
      { name: 'route', label: 'Route', query: 'label_values(http_requests_total, route)', multi: true },
    ]) as { list: Record<string, unknown>[] };
    expect(list.map((variable) => variable.name)).toEqual(['datasource', 'job', 'route']);
    expect(list[1]).toMatchObject({ current: { value: 'bulwark' }, includeAll: false, multi: false });
    expect(list[2]).toMatchObject({ current: { value: ['$__all'] }, includeAll: true, multi: true, allValue: '.*' });
  });
});
