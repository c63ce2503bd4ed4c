/**
 * A small unified line diff between two versions of grantflow.yaml, written to the audit log on each reload
 * so that "who could approve what, when" can be reconstructed. Secrets are references in the file, so the
 * diff carries none.
 */

type Op = { kind: ' ' | '-' | '+'; text: string; oldIndex: number; newIndex: number };

const CONTEXT = 3;
/** Above this many LCS cells the middle is shown as replaced wholesale: still correct, just less minimal. */
const MAX_CELLS = 4_000_000;

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Edit script by longest common subsequence, after trimming the common head and tail. */
function diffLines(a: string[], b: string[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  const ops: Op[] = [];
  for (let i = 0; i < head; i++) ops.push({ kind: ' ', text: a[i], oldIndex: i, newIndex: i });
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  for (const op of diffMiddle(midA, midB)) {
    ops.push({ ...op, oldIndex: op.oldIndex + head, newIndex: op.newIndex + head });
  }
  for (let k = tail; k > 0; k--) {
    ops.push({ kind: ' ', text: a[a.length - k], oldIndex: a.length - k, newIndex: b.length - k });
  }
  return ops;
}

function diffMiddle(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  if ((n + 1) * (m + 1) > MAX_CELLS) {
    return [
      ...a.map((text, i): Op => ({ kind: '-', text, oldIndex: i, newIndex: 0 })),
      ...b.map((text, j): Op => ({ kind: '+', text, oldIndex: n, newIndex: j })),
    ];
  }
  // lcs[i * (m + 1) + j] = LCS length of a[i..] and b[j..]
  const lcs = new Int32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] =
        a[i] === b[j]
          ? lcs[(i + 1) * (m + 1) + j + 1] + 1
          : Math.max(lcs[(i + 1) * (m + 1) + j], lcs[i * (m + 1) + j + 1]);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j])
      ops.push({ kind: ' ', text: a[i++], oldIndex: i - 1, newIndex: j++ });
    else if (i < n && (j === m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1])) {
      ops.push({ kind: '-', text: a[i], oldIndex: i++, newIndex: j });
    } else ops.push({ kind: '+', text: b[j], oldIndex: i, newIndex: j++ });
  }
  return ops;
}

/** Groups changed lines with their context into `@@ -a,b +c,d @@` hunks. */
function formatHunks(ops: Op[]): string[] {
  const out: string[] = [];
  let k = 0;
  while (k < ops.length) {
    while (k < ops.length && ops[k].kind === ' ') k++;
    if (k >= ops.length) break;
    const start = Math.max(0, k - CONTEXT);
    let end = k;
    // Extend while the next change is close enough that the contexts would touch.
    for (let gap = 0; end < ops.length && gap <= 2 * CONTEXT; end++)
      gap = ops[end].kind === ' ' ? gap + 1 : 0;
    while (end > k && ops[end - 1].kind === ' ') end--;
    end = Math.min(ops.length, end + CONTEXT);
    const hunk = ops.slice(start, end);
    const oldCount = hunk.filter((op) => op.kind !== '+').length;
    const newCount = hunk.filter((op) => op.kind !== '-').length;
    const oldStart = oldCount === 0 ? hunk[0].oldIndex : hunk[0].oldIndex + 1;
    const newStart = newCount === 0 ? hunk[0].newIndex : hunk[0].newIndex + 1;
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`);
    for (const op of hunk) out.push(`${op.kind}${op.text}`);
    k = end;
  }
  return out;
}

/**
 * A unified diff (`--- previous` / `+++ current`, hunks with 3 lines of context) from `oldText` to `newText`.
 * Returns an empty string when the texts have the same lines.
 */
export function diffConfigs(oldText: string, newText: string): string {
  const ops = diffLines(splitLines(oldText), splitLines(newText));
  if (ops.every((op) => op.kind === ' ')) return '';
  return ['--- previous', '+++ current', ...formatHunks(ops)].join('\n');
}
