/** Test helper: splits SSE text into frames, checking the `event:` line equals `data.type` on every frame. */
export interface Frame {
  event: string;
  data: Record<string, unknown>;
}

export function frames(text: string): Frame[] {
  if (text === '') return [];
  if (!text.endsWith('\n\n')) throw new Error('SSE text must end with a blank line');
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((chunk) => {
      const match = /^event: ([^\n]+)\ndata: ([^\n]+)$/.exec(chunk);
      if (!match) throw new Error(`malformed SSE frame: ${chunk}`);
      const data = JSON.parse(match[2] as string) as Record<string, unknown>;
      if (data.type !== match[1]) throw new Error(`event ${match[1]} carries data.type ${String(data.type)}`);
      return { event: match[1] as string, data };
    });
}
