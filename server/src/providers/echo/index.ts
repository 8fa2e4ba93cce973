// The echo provider's entry point inside its folder; the implementation is ../echo.ts.
export * from "../echo.js";
