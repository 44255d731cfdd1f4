/**
 * A section of BENCHMARKS.md that another bench script writes (bench/workers.ts): kept, between its
 * markers, when `npm run bench` writes the rest of the file again, and replaced in place when its
 * own script runs again.
 */

function markers(name: string): { start: string; end: string } {
  return { start: `<!-- bench:${name} -->`, end: `<!-- /bench:${name} -->` };
}

/** The section `name` of a document, markers included; undefined when it has none. */
export function sectionOf(document: string, name: string): string | undefined {
  const { start, end } = markers(name);
  const from = document.indexOf(start);
  const to = document.indexOf(end, from);
  return from === -1 || to === -1 ? undefined : document.slice(from, to + end.length);
}

/** `document` with its section `name` set to `body` (in place, or added at its end). */
export function withSection(document: string, name: string, body: string): string {
  const { start, end } = markers(name);
  const section = `${start}\n${body.trim()}\n${end}`;
  const old = sectionOf(document, name);
  return old === undefined ? `${document.trimEnd()}\n\n${section}\n` : document.replace(old, section);
}

/** A newly written document with the section `name` of the one it replaces, if that had one. */
export function keepingSection(written: string, replaced: string, name: string): string {
  const kept = sectionOf(replaced, name);
  return kept === undefined ? written : `${written.trimEnd()}\n\n${kept}\n`;
}
