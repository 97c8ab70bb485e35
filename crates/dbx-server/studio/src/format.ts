// Cell values for display, for editing, for SQL-like previews and for export.
import type { ColumnSchema, Json } from "./api";

export function display(value: Json): string {
  if (value === null) return "NULL";
  if (typeof value === "object") return `<blob ${Math.floor((value.base64.length * 3) / 4)} bytes>`;
  return String(value);
}

export function literal(value: Json): string {
  if (value === null) return "NULL";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "object") return `X'…' (${value.base64.length} base64 chars)`;
  return `'${value.replace(/'/g, "''")}'`;
}

const NUMERIC = /int|serial|real|float|double|numeric|decimal|number/i;
const BOOLEAN = /^bool/i;

// Text typed into a cell, as the JSON value to send: numbers for numeric columns when the
// text is a number, booleans for boolean columns, text otherwise. NULL is chosen separately.
export function parseInput(text: string, column: ColumnSchema | undefined): Json {
  const type = column?.decltype ?? "";
  if (NUMERIC.test(type) && text.trim() !== "" && !Number.isNaN(Number(text))) return Number(text);
  if (BOOLEAN.test(type) && /^(true|false)$/i.test(text.trim())) return text.trim().toLowerCase() === "true";
  return text;
}

// Spreadsheets run a cell that starts with = + - @ (or a tab or CR before one) as a formula;
// a text value that starts so is prefixed with ' to stay text. Numbers are left as they are.
function defused(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

function csvField(value: Json): string {
  if (value === null) return "";
  const text =
    typeof value === "object" ? value.base64 : typeof value === "string" ? defused(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

// RFC 4180: comma-separated, CRLF line ends, quoted where needed; NULL is an empty field.
export function toCsv(columns: string[], rows: Json[][]): string {
  return [columns, ...rows].map((row) => row.map((v) => csvField(v as Json)).join(",")).join("\r\n") + "\r\n";
}

export function toJson(columns: string[], rows: Json[][]): string {
  const objects = rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]])));
  return JSON.stringify(objects, null, 2) + "\n";
}

export function download(filename: string, text: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
