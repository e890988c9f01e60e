/** One Server-Sent Event whose `event:` line equals `data.type` (the Responses API convention). */
export function sse<T extends { type: string }>(data: T): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}
