export function renderMarkdownReport(r: unknown): string {
  return String(r);
}
