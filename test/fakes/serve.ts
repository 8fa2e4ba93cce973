// Runs the fake upstream as its own process (bundled to dist/fake-upstream.js) for tests that need
// it outside the test process, e.g. several gateway replicas sharing one upstream. Prints one JSON
// line {"url": "..."} once listening; drive it through the /__fake/* control API (remote.ts).
import { Command } from "commander";
import { startFakeUpstream } from "./server.js";

const program = new Command()
  .name("fake-upstream")
  .description("Fake OpenAI/Anthropic/Gemini/Ollama upstream on 127.0.0.1")
  .option("--port <port>", "port to listen on (0 = random)", "0")
  .parse();

const { port } = program.opts<{ port: string }>();
const fake = await startFakeUpstream({ port: Number(port), control: true });

const stop = (): void => {
  fake.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
// Handlers first: whoever reads the URL line may signal us right away.
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);
