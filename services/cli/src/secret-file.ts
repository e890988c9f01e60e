import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A secret kept in a file of its own (mode 0600): the one already there when it is valid, else a new one
 * written once. Used for the dev stack's operator token, fabric secret and NATS role credentials.
 */
export async function keptSecret(file: string, generate: () => string, valid: (s: string) => boolean): Promise<{ value: string; created: boolean }> {
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (valid(existing)) {
      await chmod(file, 0o600);
      return { value: existing, created: false };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const value = generate();
  await writeSecretFile(file, `${value}\n`);
  return { value, created: true };
}

export async function writeSecretFile(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600);
}
