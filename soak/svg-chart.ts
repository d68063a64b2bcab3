/** One line of a chart. */
export interface ChartSeries {
  name: string;
  /** Points as [x, y]. */
  points: readonly (readonly [number, number])[];
}

/** A line chart to draw. */
export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
  /** Vertical markers, e.g. the end of warm-up. */
  markers?: readonly { x: number; label: string }[];
}

const WIDTH = 760;
const HEIGHT = 320;
const PAD = { left: 64, right: 170, top: 32, bottom: 44 };
const COLOURS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
];

/** Draws a line chart as a standalone SVG document. */
export function renderLineChart(chart: LineChart): string {
  const all = chart.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const xMin = xs.length === 0 ? 0 : Math.min(0, ...xs);
  const xMax = xs.length === 0 ? 1 : Math.max(...xs, xMin + 1e-9);
  const yMin = Math.min(0, ...ys);
  const yMax = ys.length === 0 ? 1 : niceCeiling(Math.max(...ys, yMin + 1e-9));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const sx = (x: number): number => PAD.left + ((x - xMin) / (xMax - xMin || 1)) * plotW;
  const sy = (y: number): number => PAD.top + plotH - ((y - yMin) / (yMax - yMin || 1)) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${PAD.left}" y="18" font-size="13" font-weight="bold">${escape(chart.title)}</text>`,
  );
  for (let i = 0; i <= 4; i++) {
    const y = yMin + ((yMax - yMin) * i) / 4;
    const py = sy(y).toFixed(1);
    out.push(
      `<line x1="${PAD.left}" y1="${py}" x2="${PAD.left + plotW}" y2="${py}" stroke="#e0e0e0"/>`,
      `<text x="${PAD.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${tick(y)}</text>`,
    );
    const x = xMin + ((xMax - xMin) * i) / 4;
    out.push(
      `<text x="${sx(x).toFixed(1)}" y="${PAD.top + plotH + 16}" text-anchor="middle">${tick(x)}</text>`,
    );
  }
  out.push(
    `<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#808080"/>`,
    `<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle">${escape(chart.xLabel)}</text>`,
    `<text transform="translate(14 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(chart.yLabel)}</text>`,
  );
  (chart.markers ?? []).forEach((marker, m) => {
    if (marker.x < xMin || marker.x > xMax) return;
    const px = sx(marker.x).toFixed(1);
    // Markers close together (the end of warm-up and the start of the fit) take turns above
    // and inside the plot, so their labels do not overwrite each other.
    const ly = m % 2 === 0 ? PAD.top - 4 : PAD.top + 12;
    out.push(
      `<line x1="${px}" y1="${PAD.top}" x2="${px}" y2="${PAD.top + plotH}" stroke="#404040" stroke-dasharray="4 3"/>`,
      `<text x="${px}" y="${ly}" text-anchor="start" dx="3" fill="#404040">${escape(marker.label)}</text>`,
    );
  });
  chart.series.forEach((series, i) => {
    const colour = COLOURS[i % COLOURS.length] as string;
    if (series.points.length > 0) {
      const d = series.points
        .map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)} ${sy(p[1]).toFixed(1)}`)
        .join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
    }
    const ly = PAD.top + 8 + i * 16;
    out.push(
      `<line x1="${PAD.left + plotW + 12}" y1="${ly}" x2="${PAD.left + plotW + 30}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${PAD.left + plotW + 34}" y="${ly}" dominant-baseline="middle">${escape(series.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Rounds up to 1, 2 or 5 times a power of ten, for a readable axis. */
function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function tick(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100 || value === 0) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
