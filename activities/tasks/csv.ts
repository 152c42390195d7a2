/** Minimal RFC 4180 reader (quoted fields, doubled quotes, CRLF, BOM): submissions and answers are small. */
export type CsvTable = { header: string[]; rows: string[][] };

export function parseCsv(text: string): CsvTable {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (src[i + 1] === '"') (field += '"'), i++;
      else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') record.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      (record = []), (field = '');
    } else field += c;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || record.length) record.push(field), records.push(record);
  const nonEmpty = records.filter((r) => !(r.length === 1 && r[0] === ''));
  if (!nonEmpty.length) throw new Error('empty file');
  const [header, ...rows] = nonEmpty;
  rows.forEach((r, i) => {
    if (r.length !== header.length) throw new Error(`line ${i + 2} has ${r.length} fields, the header has ${header.length}`);
  });
  return { header: header.map((h) => h.trim()), rows };
}
