// Reading the chosen .conf files in the browser before they are sent: the same bounds the
// server applies (services/adoption/limits.ts), said per file instead of one refusal.
export const MAX_FILES = 200;
export const MAX_FILE_BYTES = 64 * 1024;

export interface ChosenFile {
  name: string;
  content: string;
  size: number;
}

export interface Refused {
  name: string;
  reason: string;
}

/** Adds `incoming` to `current`: a file of the same name replaces the earlier one (chosen again after an edit). */
export async function addFiles(current: readonly ChosenFile[], incoming: readonly File[]): Promise<{ files: ChosenFile[]; refused: Refused[] }> {
  const files = [...current];
  const refused: Refused[] = [];
  for (const file of incoming) {
    if (file.size > MAX_FILE_BYTES) {
      refused.push({ name: file.name, reason: `larger than ${MAX_FILE_BYTES / 1024} KiB (${Math.ceil(file.size / 1024)} KiB)` });
      continue;
    }
    const content = await file.text();
    if (content.includes('\u0000')) {
      refused.push({ name: file.name, reason: 'not a text file' });
      continue;
    }
    const at = files.findIndex((existing) => existing.name === file.name);
    if (at === -1 && files.length >= MAX_FILES) {
      refused.push({ name: file.name, reason: `more than ${MAX_FILES} files at once` });
      continue;
    }
    const entry = { name: file.name, content, size: file.size };
    if (at === -1) files.push(entry);
    else files[at] = entry;
  }
  return { files, refused };
}
