import {
  FormattingToolbar,
  FormattingToolbarController,
  SuggestionMenuController,
  getDefaultReactSlashMenuItems,
  getFormattingToolbarItems,
  type DefaultReactSuggestionItem,
} from "@blocknote/react";
import { filterSuggestionItems, type BlockNoteEditor } from "@blocknote/core";
import { useEffect, useState, useSyncExternalStore, type FormEvent, type ReactNode } from "react";

import type { AssistantController, AssistantState, Scope } from "../controller";
import { ui } from "../messages";

/** The controller's state, re-rendering on every change. */
export function useAssistant(controller: AssistantController): AssistantState {
  return useSyncExternalStore(
    (listener) => controller.subscribe(listener),
    () => controller.current,
  );
}

function useCatalogue(controller: AssistantController): void {
  useAssistant(controller); // the catalogue's arrival is announced as a state change
  useEffect(() => {
    if (!controller.catalogue.length && !controller.catalogueError) void controller.loadCatalogue();
  }, [controller]);
}

// Keeps the editor's focus and selection when a menu button is pressed.
const keepSelection = (event: { preventDefault(): void }) => event.preventDefault();

function ActionList(props: { controller: AssistantController; scope: Scope; testIdPrefix: string; onChosen: () => void }) {
  const { controller, scope } = props;
  useCatalogue(controller);
  if (controller.catalogueError) {
    return (
      <div className="suite-ai-menu-error" role="alert" data-testid="suite-ai-error">
        {controller.catalogueError.message}
      </div>
    );
  }
  const actions = controller.actionsFor(scope);
  if (!actions.length) return <div className="suite-ai-menu-empty">{ui("loadingCatalogue", controller.locale)}</div>;
  return (
    <>
      {actions.map((action) => (
        <button
          key={action.name}
          type="button"
          role="menuitem"
          className="suite-ai-menu-item"
          data-testid={`${props.testIdPrefix}${action.name}`}
          disabled={controller.busy}
          title={action.description}
          onMouseDown={keepSelection}
          onClick={() => {
            props.onChosen();
            controller.choose(action.name, scope);
          }}
        >
          {controller.label(action)}
        </button>
      ))}
    </>
  );
}

function Dropdown(props: { label: string; testId: string; className?: string; children: (close: () => void) => ReactNode }) {
  const [open, setOpen] = useState(false);
  return (
    <div className={`suite-ai-dropdown ${props.className ?? ""}`}>
      <button
        type="button"
        className="suite-ai-trigger"
        data-testid={props.testId}
        aria-haspopup="menu"
        aria-expanded={open}
        onMouseDown={keepSelection}
        onClick={() => setOpen((value) => !value)}
      >
        {props.label}
      </button>
      {open && (
        <div className="suite-ai-menu" role="menu">
          {props.children(() => setOpen(false))}
        </div>
      )}
    </div>
  );
}

/** The formatting toolbar's "Assistant" button and its menu of selection actions. */
export function AssistantMenu({ controller }: { controller: AssistantController }) {
  useAssistant(controller);
  return (
    <Dropdown label={ui("assistant", controller.locale)} testId="suite-ai-menu">
      {(close) => <ActionList controller={controller} scope="selection" testIdPrefix="suite-ai-action-" onChosen={close} />}
    </Dropdown>
  );
}

/** The menu of whole-document actions (summarize, translate, note…), for the page's own toolbar. */
export function DocumentMenu({ controller }: { controller: AssistantController }) {
  useAssistant(controller);
  return (
    <Dropdown label={ui("documentAssistant", controller.locale)} testId="suite-ai-document-menu" className="suite-ai-document">
      {(close) => <ActionList controller={controller} scope="document" testIdPrefix="suite-ai-document-action-" onChosen={close} />}
    </Dropdown>
  );
}

/** BlockNote's formatting toolbar with the Assistant menu at its end. Render inside BlockNoteView
 * (given `formattingToolbar={false}`). */
export function SuiteAiFormattingToolbar({ controller }: { controller: AssistantController }) {
  return (
    <FormattingToolbarController
      formattingToolbar={() => (
        <FormattingToolbar>
          {getFormattingToolbarItems()}
          <AssistantMenu key="suite-ai" controller={controller} />
        </FormattingToolbar>
      )}
    />
  );
}

/** Slash-menu items for the whole-document actions ("/résumer", "/note"…). */
export function suiteAiSlashMenuItems(controller: AssistantController): DefaultReactSuggestionItem[] {
  const group = ui("assistant", controller.locale);
  return controller.actionsFor("document").map((action) => ({
    title: `${controller.label(action)} (${ui("documentSuffix", controller.locale)})`,
    subtext: action.description,
    aliases: [action.name, "ai", "ia", "assistant"],
    group,
    onItemClick: () => controller.choose(action.name, "document"),
  }));
}

/** BlockNote's slash menu plus the assistant's items. Render inside BlockNoteView (`slashMenu={false}`). */
export function SuiteAiSlashMenu({ controller, editor }: { controller: AssistantController; editor: BlockNoteEditor<any, any, any> }) {
  useCatalogue(controller);
  return (
    <SuggestionMenuController
      triggerCharacter="/"
      getItems={async (query) =>
        filterSuggestionItems([...getDefaultReactSlashMenuItems(editor), ...suiteAiSlashMenuItems(controller)], query)
      }
    />
  );
}

function OptionsForm({ controller, state }: { controller: AssistantController; state: AssistantState }) {
  const action = state.action!;
  const initial: Record<string, string> = {};
  for (const option of action.options) {
    if (state.pendingOptions.includes(option.name) && option.choices?.length) {
      initial[option.name] = option.choices.includes(controller.locale === "fr" ? "en" : "fr")
        ? controller.locale === "fr" ? "en" : "fr"
        : option.choices[0];
    }
  }
  const [values, setValues] = useState<Record<string, string>>(initial);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void controller.run(values);
  };
  return (
    <form className="suite-ai-options" data-testid="suite-ai-options" onSubmit={submit}>
      {action.options
        .filter((option) => state.pendingOptions.includes(option.name))
        .map((option) =>
          option.choices?.length ? (
            <label key={option.name}>
              {ui("language", controller.locale)}
              <select
                data-testid={`suite-ai-option-${option.name}`}
                value={values[option.name] ?? ""}
                onChange={(event) => setValues({ ...values, [option.name]: event.target.value })}
              >
                {option.choices.map((choice) => (
                  <option key={choice} value={choice}>
                    {languageName(choice, controller.locale)}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <label key={option.name}>
              {ui("instruction", controller.locale)}
              <textarea
                data-testid={`suite-ai-option-${option.name}`}
                required
                maxLength={option.max_length}
                placeholder={ui("instructionPlaceholder", controller.locale)}
                value={values[option.name] ?? ""}
                onChange={(event) => setValues({ ...values, [option.name]: event.target.value })}
              />
            </label>
          ),
        )}
      <div className="suite-ai-buttons">
        <button type="submit" className="suite-ai-primary" data-testid="suite-ai-run">
          {ui("run", controller.locale)}
        </button>
        <button type="button" data-testid="suite-ai-reject" onClick={() => controller.reject()}>
          {ui("reject", controller.locale)}
        </button>
      </div>
    </form>
  );
}

type InlineItem = { type?: string; text?: string; styles?: Record<string, unknown>; href?: string; content?: InlineItem[] };
type PreviewBlock = { type?: string; props?: Record<string, unknown>; content?: unknown; children?: PreviewBlock[] };

function Inline({ items }: { items: unknown }) {
  if (typeof items === "string") return <>{items}</>;
  if (!Array.isArray(items)) return null;
  return (
    <>
      {(items as InlineItem[]).map((item, index) => {
        if (item.type === "link") {
          return (
            <a key={index} href={item.href} target="_blank" rel="noreferrer">
              <Inline items={item.content} />
            </a>
          );
        }
        let node: ReactNode = item.text ?? "";
        const styles = item.styles ?? {};
        if (styles.code) node = <code>{node}</code>;
        if (styles.strike) node = <s>{node}</s>;
        if (styles.underline) node = <u>{node}</u>;
        if (styles.italic) node = <em>{node}</em>;
        if (styles.bold) node = <strong>{node}</strong>;
        return <span key={index}>{node}</span>;
      })}
    </>
  );
}

/** The result's blocks as the editor will show them once accepted (the common block types). */
export function BlocksPreview({ blocks }: { blocks: unknown[] }) {
  return (
    <>
      {(blocks as PreviewBlock[]).map((block, index) => {
        const inline = <Inline items={block.content} />;
        const children = block.children?.length ? <BlocksPreview blocks={block.children} /> : null;
        switch (block.type) {
          case "heading": {
            const level = Math.min(6, Math.max(1, Number(block.props?.level ?? 1)));
            const Tag = `h${level}` as "h1";
            return <Tag key={index}>{inline}</Tag>;
          }
          case "bulletListItem":
          case "numberedListItem":
          case "checkListItem": {
            const List = block.type === "numberedListItem" ? "ol" : "ul";
            return (
              <List key={index}>
                <li>
                  {block.type === "checkListItem" && (block.props?.checked ? "☑ " : "☐ ")}
                  {inline}
                  {children}
                </li>
              </List>
            );
          }
          case "quote":
            return <blockquote key={index}>{inline}</blockquote>;
          case "codeBlock":
            return <pre key={index}>{inline}</pre>;
          default:
            return (
              <p key={index}>
                {inline}
                {children}
              </p>
            );
        }
      })}
    </>
  );
}

function languageName(code: string, locale: string): string {
  try {
    const names = new Intl.DisplayNames([locale], { type: "language" });
    return `${names.of(code) ?? code} (${code})`;
  } catch {
    return code;
  }
}

/** The run's panel: options, streamed preview, progress, Accept / Reject / Stop, errors, the note's link. */
export function AssistantPanel({ controller }: { controller: AssistantController }) {
  const state = useAssistant(controller);
  const locale = controller.locale;
  if (state.phase === "idle" || !state.action) return null;
  const title = `${controller.label(state.action)}${state.scope === "document" ? ` — ${ui("documentSuffix", locale)}` : ""}`;
  const running = ["submitting", "queued", "running"].includes(state.phase);
  const note = state.result?.note;
  return (
    <section className="suite-ai-panel" data-testid="suite-ai-panel" data-phase={state.phase} aria-live="polite">
      <header className="suite-ai-panel-title">{title}</header>
      {state.phase === "options" && <OptionsForm controller={controller} state={state} />}
      {running && (
        <>
          <div className="suite-ai-status">
            {state.phase === "queued" && state.retryIn
              ? ui("retrying", locale, { seconds: Math.ceil(state.retryIn) })
              : ui(state.phase === "running" ? "running" : "queued", locale)}
            {state.progress && ` ${ui("progress", locale, state.progress)}`}
          </div>
          <progress
            data-testid="suite-ai-progress"
            className="suite-ai-progress"
            {...(state.progress ? { value: state.progress.done, max: state.progress.total } : {})}
          />
        </>
      )}
      {(running || state.phase === "succeeded") && !note && (
        <div className="suite-ai-preview" data-testid="suite-ai-preview" data-final={state.phase === "succeeded"}>
          {state.phase === "succeeded" && state.result?.blocks?.length ? <BlocksPreview blocks={state.result.blocks} /> : state.text}
        </div>
      )}
      {state.phase === "succeeded" && note && (
        <p className="suite-ai-note">
          {ui("noteReady", locale)}{" "}
          <a data-testid="suite-ai-note-link" href={note.url} target="_blank" rel="noreferrer">
            {note.title || ui("openNote", locale)}
          </a>
        </p>
      )}
      {state.phase === "failed" && state.error && (
        <div className="suite-ai-error" role="alert" data-testid="suite-ai-error" data-code={state.error.code}>
          {state.error.message}
        </div>
      )}
      {state.phase === "cancelled" && <div className="suite-ai-status">{ui("cancelled", locale)}</div>}
      <div className="suite-ai-buttons">
        {running && (
          <button type="button" data-testid="suite-ai-stop" onClick={() => void controller.stop()}>
            {ui("stop", locale)}
          </button>
        )}
        {state.phase === "succeeded" && !note && (
          <>
            <button type="button" className="suite-ai-primary" data-testid="suite-ai-accept" onClick={() => controller.accept()}>
              {ui("accept", locale)}
            </button>
            <button type="button" data-testid="suite-ai-reject" onClick={() => controller.reject()}>
              {ui("reject", locale)}
            </button>
          </>
        )}
        {(note || state.phase === "failed" || state.phase === "cancelled") && (
          <button type="button" data-testid="suite-ai-close" onClick={() => controller.reset()}>
            {ui("close", locale)}
          </button>
        )}
      </div>
    </section>
  );
}
