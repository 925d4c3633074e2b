// Reads suite_ai's ai-proxy stream with the Vercel AI SDK's own client, as BlockNote's AI extension
// does in Docs (useAI.tsx: an AIExtension over `new DefaultChatTransport({fetch})`): the
// transport POSTs the chat request and parses the answer (parseJsonEventStream against
// uiMessageChunkSchema), and readUIMessageStream assembles the assistant message from the chunks.
//
// Input (stdin, JSON): {"api", "headers", "messages", "body"}. Output (stdout, JSON): the final
// assistant UI message, or {"error": "..."} when the SDK refused the stream or the answer.
import { DefaultChatTransport, readUIMessageStream } from "ai";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const transport = new DefaultChatTransport({ api: request.api, headers: request.headers, body: request.body });
try {
  const stream = await transport.sendMessages({
    chatId: "chat-1",
    messages: request.messages,
    trigger: "submit-message",
    messageId: undefined,
    abortSignal: undefined,
  });
  let message = null;
  for await (const snapshot of readUIMessageStream({ stream, terminateOnError: true })) {
    message = snapshot;
  }
  process.stdout.write(JSON.stringify({ message }));
} catch (error) {
  process.stdout.write(JSON.stringify({ error: String(error && error.message ? error.message : error) }));
}
