import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";

const int = new Intl.NumberFormat("en-US");
const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });

export function fmtInt(n: number | bigint): string {
  return int.format(n);
}

export function fmtCompact(n: number): string {
  return compact.format(n);
}

export function fmtUsd(n: number): string {
  if (n === 0) return "$0.00";
  if (Math.abs(n) < 0.01) return `$${n.toFixed(4)}`;
  return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function fmtMs(n: number | undefined): string {
  if (n === undefined) return "–";
  if (n < 1) return "<1 ms";
  return n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(2)} s`;
}

/** Local date and time, to the second. */
export function fmtTime(ts: Timestamp | undefined): string {
  if (!ts) return "–";
  return fmtDate(timestampDate(ts));
}

export function fmtDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** Value for an <input type="datetime-local">, in local time. */
export function toLocalInput(d: Date): string {
  return fmtDate(d).slice(0, 16).replace(" ", "T");
}
