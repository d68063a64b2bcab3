/** Prints benchmark figures as an aligned two-column table. */
export function printTable(title: string, figures: Record<string, number>): void {
  const width = Math.max(...Object.keys(figures).map((name) => name.length));
  console.log(`\n${title}`);
  for (const [name, value] of Object.entries(figures)) {
    const shown = Number.isInteger(value) ? value.toLocaleString('en') : value.toFixed(2);
    console.log(`  ${name.padEnd(width)}  ${shown.padStart(14)}`);
  }
}
