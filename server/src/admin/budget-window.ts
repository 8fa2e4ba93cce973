// Calendar windows of budgets, aligned to UTC.
import type { BudgetJson } from "../store/schema.js";

/** Start of the window containing `now`; the epoch for "total". */
export function windowStart(window: BudgetJson["window"], now: Date): Date {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  switch (window) {
    case "daily":
      return new Date(Date.UTC(y, m, d));
    case "weekly": {
      // Weeks start on Monday.
      const back = (now.getUTCDay() + 6) % 7;
      return new Date(Date.UTC(y, m, d - back));
    }
    case "monthly":
      return new Date(Date.UTC(y, m, 1));
    case "total":
      return new Date(0);
  }
}

/** When the window resets; undefined for "total". */
export function windowEnd(window: BudgetJson["window"], now: Date): Date | undefined {
  const start = windowStart(window, now);
  switch (window) {
    case "daily":
      return new Date(start.getTime() + 86_400_000);
    case "weekly":
      return new Date(start.getTime() + 7 * 86_400_000);
    case "monthly":
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    case "total":
      return undefined;
  }
}
