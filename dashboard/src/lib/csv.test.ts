import { describe, expect, it } from 'vitest';
import { csvCell, fileSlug, parseCsv, toCsv } from './csv';

describe('csvCell', () => {
  it('leaves plain text and numbers alone', () => {
    expect(csvCell('nasa')).toBe('nasa');
    expect(csvCell(1842365)).toBe('1842365');
    expect(csvCell(4.626613)).toBe('4.626613');
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell(true)).toBe('true');
  });
  it('quotes commas, quotes and newlines, doubling quotes', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line1\nline2')).toBe('"line1\nline2"');
    expect(csvCell('cr\r\nlf')).toBe('"cr\r\nlf"');
    expect(csvCell(' padded ')).toBe('" padded "');
  });
  it('empties null, undefined and non-finite numbers', () => {
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(NaN)).toBe('');
  });
  it('defuses spreadsheet formulas in text (not in numbers)', () => {
    expect(csvCell('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('@handle')).toBe("'@handle");
    expect(csvCell(-5)).toBe('-5');
  });
});

describe('toCsv / parseCsv', () => {
  const rows = [
    { handle: 'deepi.kara14', name: 'Deepi Kara', followers: 1842365, note: 'great, "top" pick\nsecond line' },
    { handle: 'x', name: null as string | null, followers: 0, note: '' },
  ];
  const cols = [
    { header: 'handle', value: (r: (typeof rows)[0]) => r.handle },
    { header: 'name', value: (r: (typeof rows)[0]) => r.name },
    { header: 'followers', value: (r: (typeof rows)[0]) => r.followers },
    { header: 'note', value: (r: (typeof rows)[0]) => r.note },
  ];
  it('writes a header, CRLF line ends and a trailing CRLF', () => {
    const csv = toCsv(rows, cols);
    expect(csv.startsWith('handle,name,followers,note\r\n')).toBe(true);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv).toContain('deepi.kara14,Deepi Kara,1842365,"great, ""top"" pick\nsecond line"\r\n');
    expect(csv).toContain('x,,0,\r\n');
  });
  it('round-trips through a parser', () => {
    const parsed = parseCsv(toCsv(rows, cols));
    expect(parsed).toEqual([
      ['handle', 'name', 'followers', 'note'],
      ['deepi.kara14', 'Deepi Kara', '1842365', 'great, "top" pick\nsecond line'],
      ['x', '', '0', ''],
    ]);
  });
  it('writes only the header for no rows', () => {
    expect(toCsv([], cols)).toBe('handle,name,followers,note\r\n');
  });
});

describe('fileSlug', () => {
  it('makes safe file names', () => {
    expect(fileSlug('Shortlist #1 / Q4')).toBe('shortlist-1-q4');
    expect(fileSlug('Café Créateurs')).toBe('cafe-createurs');
    expect(fileSlug('!!!')).toBe('collection');
  });
});
