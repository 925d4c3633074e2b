/**
 * The /playground/ page: a real BlockNote editor with suite_ai's extension, signed in with the
 * local token the page's configuration carries. Exposes `window.suiteAiEditor` (and the controller
 * and a log of its events) for the browser tests.
 */
import "@blocknote/mantine/style.css";
import "../src/style.css";
import "./playground.css";

import { en, fr } from "@blocknote/core/locales";
import { BlockNoteView } from "@blocknote/mantine";
import { useCreateBlockNote } from "@blocknote/react";
import { StrictMode, useMemo } from "react";
import { createRoot } from "react-dom/client";

import { SuiteAiClient, type Locale } from "../src/api";
import { bearerAuth } from "../src/auth";
import { AssistantController, type AssistantState } from "../src/controller";
import { AssistantPanel, DocumentMenu, SuiteAiFormattingToolbar, SuiteAiSlashMenu } from "../src/react/components";
import { FRENCH_DOCUMENT } from "./document";

interface PlaygroundConfig {
  apiBase: string;
  token: string;
  documentId: string;
  locale: Locale;
  user: string;
  otherLocaleUrl: string;
}

declare global {
  interface Window {
    /** The page's configuration; its token is read before every request (tests may swap it for
     * an OIDC access token, as a host application's bearer provider would return). */
    suiteAiPlayground?: PlaygroundConfig;
    suiteAiEditor?: unknown;
    suiteAiController?: AssistantController;
    suiteAiEvents?: Array<{ type: string; phase: string; textLength: number; at: number }>;
  }
}

const TEXT: Record<Locale, Record<string, string>> = {
  fr: {
    title: "Bac à sable de l'assistant",
    intro: "Sélectionnez du texte puis ouvrez le menu « Assistant » de la barre de mise en forme, ou lancez une action sur tout le document.",
    signedIn: "Connecté en tant que",
    switch: "English",
  },
  en: {
    title: "Assistant playground",
    intro: "Select some text, then open the formatting toolbar's \"Assistant\" menu, or run an action on the whole document.",
    signedIn: "Signed in as",
    switch: "Français",
  },
};

function Playground({ config }: { config: PlaygroundConfig }) {
  const locale = config.locale;
  const editor = useCreateBlockNote({
    dictionary: locale === "en" ? en : fr,
    initialContent: FRENCH_DOCUMENT as never,
  });
  const controller = useMemo(() => {
    const client = new SuiteAiClient({ baseUrl: config.apiBase, auth: bearerAuth(() => config.token), locale });
    window.suiteAiEvents = [];
    return new AssistantController({
      client,
      editor: editor as never,
      documentId: config.documentId,
      locale,
      onEvent: ({ type, state }: { type: string; state: AssistantState }) =>
        window.suiteAiEvents?.push({ type, phase: state.phase, textLength: state.text.length, at: performance.now() }),
    });
  }, [editor, config, locale]);
  window.suiteAiEditor = editor;
  window.suiteAiController = controller;
  const text = TEXT[locale];
  return (
    <main className="playground">
      <header className="playground-header">
        <h1>{text.title}</h1>
        <div className="playground-meta">
          <span>
            {text.signedIn} <code>{config.user}</code>
          </span>
          <a href={config.otherLocaleUrl} data-testid="suite-ai-locale-switch" hrefLang={locale === "fr" ? "en" : "fr"}>
            {text.switch}
          </a>
        </div>
      </header>
      <p className="playground-intro">{text.intro}</p>
      <div className="playground-toolbar">
        <DocumentMenu controller={controller} />
      </div>
      <AssistantPanel controller={controller} />
      <div className="playground-editor" data-testid="playground-editor">
        <BlockNoteView editor={editor} formattingToolbar={false} slashMenu={false} theme="light">
          <SuiteAiFormattingToolbar controller={controller} />
          <SuiteAiSlashMenu controller={controller} editor={editor} />
        </BlockNoteView>
      </div>
    </main>
  );
}

const element = document.getElementById("suite-ai-playground-config");
const config = JSON.parse(element?.textContent ?? "{}") as PlaygroundConfig;
window.suiteAiPlayground = config;
createRoot(document.getElementById("playground")!).render(
  <StrictMode>
    <Playground config={config} />
  </StrictMode>,
);
