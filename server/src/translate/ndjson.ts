// Newline-delimited JSON (Ollama's stream format), split into whole lines across chunk borders.

export interface LineReader {
  feed(text: string): string[];
  flush(): string[];
}

export function createLineReader(): LineReader {
  let buffer = "";
  return {
    feed(text) {
      if (!text.includes("\n")) {
        buffer += text;
        return [];
      }
      const lines = (buffer + text).split("\n");
      buffer = lines.pop() ?? "";
      return lines.filter((line) => line.trim() !== "");
    },
    flush() {
      const rest = buffer;
      buffer = "";
      return rest.trim() === "" ? [] : [rest];
    },
  };
}
