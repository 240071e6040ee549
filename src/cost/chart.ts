// The cost chart: baseline vs. hub monthly cost over the number of VPCs, with the break-even point
// marked, drawn by Vega-Lite and rendered to SVG headlessly (no browser, no canvas).
import { baselineBill, breakEvenVpcs, hubBill, type CostInputs } from './model';
import type { PriceBook } from './prices';

export interface ChartPoint {
  readonly vpcs: number;
  readonly series: 'baseline (NAT in every VPC)' | 'hub';
  readonly monthly: number;
}

/** The points drawn: both bills at every VPC count from 1 to a range that shows the crossing and the user's count. */
export function chartSeries(i: CostInputs, book: PriceBook): { points: ChartPoint[]; breakEven: number | null; maxVpcs: number } {
  const breakEven = breakEvenVpcs(i, book);
  const maxVpcs = Math.max(10, Math.ceil(i.vpcs * 1.25), breakEven !== null ? breakEven * 2 : 0);
  const points: ChartPoint[] = [];
  for (let n = 1; n <= maxVpcs; n++) {
    const at = { ...i, vpcs: n };
    points.push({ vpcs: n, series: 'baseline (NAT in every VPC)', monthly: round2(baselineBill(at, book).total) });
    points.push({ vpcs: n, series: 'hub', monthly: round2(hubBill(at, book).total) });
  }
  return { points, breakEven, maxVpcs };
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

/** The Vega-Lite specification (exported so tests can check what is drawn without rendering). */
export function chartSpec(i: CostInputs, book: PriceBook): Record<string, unknown> {
  const { points, breakEven } = chartSeries(i, book);
  const title = `Monthly egress cost, ${i.region}, ${i.gbPerVpc} GB/month per VPC`;
  const layers: Record<string, unknown>[] = [
    {
      data: { values: points },
      mark: { type: 'line', point: false, strokeWidth: 2 },
      encoding: {
        x: { field: 'vpcs', type: 'quantitative', title: 'project VPCs' },
        y: { field: 'monthly', type: 'quantitative', title: 'USD per month' },
        color: {
          field: 'series',
          type: 'nominal',
          title: null,
          scale: { range: ['#d62728', '#1f77b4'] },
          legend: { labelLimit: 400, orient: 'top-left' },
        },
      },
    },
  ];
  if (breakEven !== null) {
    const at = points.find((p) => p.vpcs === breakEven && p.series === 'hub')!;
    const mark = [{ vpcs: breakEven, monthly: at.monthly, label: `break-even: ${breakEven} VPC${breakEven === 1 ? '' : 's'}` }];
    layers.push(
      {
        data: { values: mark },
        mark: { type: 'rule', strokeDash: [4, 4], color: '#555' },
        encoding: { x: { field: 'vpcs', type: 'quantitative' } },
      },
      {
        data: { values: mark },
        mark: { type: 'point', filled: true, size: 90, color: '#2ca02c' },
        encoding: { x: { field: 'vpcs', type: 'quantitative' }, y: { field: 'monthly', type: 'quantitative' } },
      },
      {
        data: { values: mark },
        mark: { type: 'text', align: 'left', dx: 8, dy: 16, fontSize: 13, fontWeight: 'bold' },
        encoding: { x: { field: 'vpcs', type: 'quantitative' }, y: { field: 'monthly', type: 'quantitative' }, text: { field: 'label' } },
      },
    );
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 640,
    height: 360,
    background: 'white',
    layer: layers,
  };
}

/** Renders the chart to an SVG document. */
export async function renderChartSvg(i: CostInputs, book: PriceBook): Promise<string> {
  // vega and vega-lite are ES modules; load them only when a chart is asked for.
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(chartSpec(i, book) as unknown as Parameters<typeof vl.compile>[0]);
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
