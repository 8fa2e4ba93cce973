// The one error type configuration loading throws. Its message is meant for an operator's terminal.

export class ConfigError extends Error {
  /** Process exit code for the CLI: 2, a usage error (unreadable, non-JSON or invalid config). */
  readonly exitCode: number;
  /** Each problem as "path.to.field: cause". */
  readonly problems: string[];

  constructor(message: string, problems: string[], exitCode = 2) {
    super(message);
    this.name = "ConfigError";
    this.exitCode = exitCode;
    this.problems = problems;
  }
}
