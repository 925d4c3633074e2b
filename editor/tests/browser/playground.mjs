// Drives /playground/ in Debian's Chromium (playwright-core, no browser download) for
// tests/browser/test_playground.py. One scenario per run; prints one JSON line with what it saw.
// On a failure it keeps a screenshot and the page's text in the given directory.
//
//   node playground.mjs <scenario> <base-url> <artifacts-dir> [json-arguments]
//
// Scenarios: "accept" (paste, select two paragraphs, run an action, accept, undo), "reject",
// "error" (run an action, wait for the error message), "screenshot" (a finished preview, for docs/).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [scenario, baseUrl, artifacts, rawArgs] = process.argv.slice(2);
const args = rawArgs ? JSON.parse(rawArgs) : {};
const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const WAIT = Number(process.env.PLAYGROUND_WAIT_MS || 60000);

const PASTED = [
  "Le conseil municipal s'est réuni le 4 février en séance publique sous la présidence du maire.",
  "Après en avoir délibéré, le conseil approuve à l'unanimité le budget primitif de la commune.",
];

// Polls with page.evaluate: Playwright's waitForFunction evaluates its predicate from a string
// when it has to poll, which the page's Content-Security-Policy (no 'unsafe-eval') refuses.
async function waitUntil(page, predicate, arg, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await page.evaluate(predicate, arg).catch(() => false)) return true;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${predicate}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function documentOf(page) {
  return page.evaluate(() => JSON.parse(JSON.stringify(window.suiteAiEditor.document)));
}

async function pasteFrenchText(page) {
  const editor = page.locator(".bn-editor");
  await editor.click();
  await page.keyboard.press("Control+a");
  await page.keyboard.press("Delete");
  await page.keyboard.press("Control+a");
  await page.keyboard.press("Delete");
  const html = PASTED.map((text) => `<p>${text}</p>`).join("");
  await page.evaluate(
    ({ text, html }) => {
      const data = new DataTransfer();
      data.setData("text/plain", text);
      data.setData("text/html", html);
      const target = document.activeElement ?? document.querySelector(".bn-editor");
      target.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    },
    { text: PASTED.join("\n\n"), html },
  );
  await waitUntil(
    page,
    (expected) => window.suiteAiEditor.document.filter((b) => JSON.stringify(b.content ?? "").includes(expected)).length > 0,
    PASTED[1].slice(0, 30),
  );
}

async function selectParagraphs(page, texts) {
  // From the start of the first paragraph to the end of the second, with the mouse.
  const first = page.locator(".bn-block-content", { hasText: texts[0].slice(0, 25) }).first();
  const second = page.locator(".bn-block-content", { hasText: texts[1].slice(0, 25) }).first();
  const a = await first.locator(".bn-inline-content").boundingBox();
  const b = await second.locator(".bn-inline-content").boundingBox();
  // A click first: the editor focused and any earlier selection collapsed.
  await page.mouse.click(b.x + b.width - 1, b.y + b.height - 4);
  await page.mouse.move(a.x + 1, a.y + 4);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width - 1, b.y + b.height - 4, { steps: 8 });
  await page.mouse.up();
  await page.getByTestId("suite-ai-menu").waitFor({ timeout: WAIT });
  return page.evaluate(() => window.suiteAiEditor.getSelection()?.blocks.map((block) => block.id) ?? []);
}

async function runAction(page, action, options) {
  await page.getByTestId("suite-ai-menu").click();
  const item = page.getByTestId(`suite-ai-action-${action}`);
  await item.waitFor({ timeout: WAIT });
  const menu = await page.locator(".suite-ai-menu").innerText();
  await item.click();
  if (options && Object.keys(options).length) {
    for (const [name, value] of Object.entries(options)) {
      const field = page.getByTestId(`suite-ai-option-${name}`);
      const tag = await field.evaluate((element) => element.tagName);
      if (tag === "SELECT") await field.selectOption(value);
      else await field.fill(value);
    }
    await page.getByTestId("suite-ai-run").click();
  }
  return menu.split("\n").filter(Boolean);
}

async function open(browser, locale) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, locale: locale === "en" ? "en-US" : "fr-FR" });
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  await page.goto(`${baseUrl}/playground/${locale === "en" ? "?lang=en" : ""}`);
  await waitUntil(page, () => Boolean(window.suiteAiEditor && window.suiteAiController), null);
  return { page, errors };
}

async function main() {
  const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  let page;
  const out = { scenario };
  try {
    const opened = await open(browser, args.locale ?? "fr");
    page = opened.page;
    out.pageErrors = opened.errors;
    out.title = await page.title();
    if (scenario === "ttfc") {
      // Time to first character: from the click on the action to the first streamed character
      // in the preview, both taken in the page (performance.now), for bench/ttfc_bench.py.
      await pasteFrenchText(page);
      out.samples = [];
      for (let run = 0; run < (args.runs ?? 10); run += 1) {
        await selectParagraphs(page, PASTED);
        await page.getByTestId("suite-ai-menu").click();
        const item = page.getByTestId(`suite-ai-action-${args.action ?? "rephrase"}`);
        await item.waitFor({ timeout: WAIT });
        await page.evaluate(() => {
          window.__ttfc = { click: null, first: null };
          document.addEventListener("click", () => (window.__ttfc.click ??= performance.now()), { capture: true, once: true });
          const observer = new MutationObserver(() => {
            const preview = document.querySelector('[data-testid="suite-ai-preview"]');
            if (preview && preview.textContent && window.__ttfc.first === null) {
              window.__ttfc.first = performance.now();
              observer.disconnect();
            }
          });
          observer.observe(document.body, { childList: true, subtree: true, characterData: true });
        });
        const mark = await page.evaluate(() => window.suiteAiEvents.length);
        await item.click();
        await page.getByTestId("suite-ai-accept").waitFor({ timeout: WAIT });
        out.samples.push(await page.evaluate(() => window.__ttfc.first - window.__ttfc.click));
        // Where the time went: the 202, the worker's "running", the first delta, as the page got them.
        out.phases = out.phases ?? [];
        out.phases.push(
          await page.evaluate((mark) => {
            const events = window.suiteAiEvents.slice(mark);
            const at = (predicate) => (events.find(predicate)?.at ?? NaN) - window.__ttfc.click;
            // The submission as the browser's Resource Timing saw it: sent, answered.
            const post = performance
              .getEntriesByType("resource")
              .filter((e) => e.initiatorType === "fetch" && e.name.endsWith("/actions/") && e.startTime >= window.__ttfc.click)
              .at(-1);
            return {
              posted: (post?.startTime ?? NaN) - window.__ttfc.click,
              answered: (post?.responseEnd ?? NaN) - window.__ttfc.click,
              accepted: at((e) => e.type === "queued"),
              running: at((e) => e.type === "status" && e.phase === "running"),
              firstDelta: at((e) => e.type === "delta" && e.textLength > 0),
            };
          }, mark),
        );
        await page.getByTestId("suite-ai-reject").click();
        await page.getByTestId("suite-ai-panel").waitFor({ state: "detached", timeout: WAIT });
      }
      out.ok = true;
      return;
    }
    if (scenario === "note") {
      // The note, on the document the playground edits, with the given bearer token (an OIDC
      // access token Docs accepts: the note is written into Docs with the caller's rights).
      await page.evaluate((token) => (window.suiteAiPlayground.token = token), args.token);
      await page.getByTestId("suite-ai-document-menu").click();
      await page.getByTestId("suite-ai-document-action-note").click();
      const link = page.getByTestId("suite-ai-note-link");
      await link.waitFor({ timeout: WAIT });
      out.note = { href: await link.getAttribute("href"), text: await link.innerText() };
      out.ok = true;
      return;
    }
    if (scenario === "document") {
      // A whole-document action from the document menu, on the prefilled document made long.
      await page.evaluate((count) => {
        const editor = window.suiteAiEditor;
        const sentence = "Le service a instruit les dossiers de subvention dans les délais prévus par le règlement. ";
        const blocks = Array.from({ length: count }, (_, i) => ({ type: "paragraph", content: `Section ${i + 1} : ${sentence.repeat(6)}` }));
        editor.insertBlocks(blocks, editor.document[editor.document.length - 1], "after");
      }, args.paragraphs ?? 0);
      out.before = await documentOf(page);
      await page.getByTestId("suite-ai-document-menu").click();
      const menu = await page.locator(".suite-ai-menu").innerText();
      out.menu = menu.split("\n").filter(Boolean);
      await page.getByTestId(`suite-ai-document-action-${args.action}`).click();
      await page.getByTestId("suite-ai-progress").waitFor({ timeout: WAIT });
      await page.getByTestId("suite-ai-accept").waitFor({ timeout: WAIT });
      out.preview = await page.getByTestId("suite-ai-preview").innerText();
      out.events = await page.evaluate(() => window.suiteAiEvents);
      await page.getByTestId("suite-ai-accept").click();
      await page.getByTestId("suite-ai-panel").waitFor({ state: "detached", timeout: WAIT });
      out.after = await documentOf(page);
      out.ok = true;
      return;
    }
    if (scenario === "screenshot") {
      // The page as a newcomer finds it: the prefilled document, two of its paragraphs selected.
      out.selected = await selectParagraphs(page, ["La séance est ouverte", "Le comité examine"]);
    } else {
      await pasteFrenchText(page);
      out.selected = await selectParagraphs(page, PASTED);
    }
    out.before = await documentOf(page);
    out.menu = await runAction(page, args.action ?? "summarize", args.options);
    if (scenario === "stop") {
      // Stop once the first characters are in the preview.
      await waitUntil(page, () => (document.querySelector('[data-testid="suite-ai-preview"]')?.textContent ?? "").length > 0, null);
      await page.getByTestId("suite-ai-stop").click();
      await page.locator('[data-testid="suite-ai-panel"][data-phase="cancelled"]').waitFor({ timeout: WAIT });
      out.events = await page.evaluate(() => window.suiteAiEvents);
      out.after = await documentOf(page);
    } else if (scenario === "error") {
      const error = page.getByTestId("suite-ai-error");
      await error.waitFor({ timeout: WAIT });
      out.error = { text: await error.innerText(), code: await error.getAttribute("data-code") };
      out.after = await documentOf(page);
    } else {
      await page.getByTestId("suite-ai-accept").waitFor({ timeout: WAIT });
      out.preview = await page.getByTestId("suite-ai-preview").innerText();
      out.events = await page.evaluate(() => window.suiteAiEvents);
      if (scenario === "screenshot") {
        await page.waitForTimeout(300);
        await page.screenshot({ path: args.path, fullPage: false });
      } else if (scenario === "reject") {
        await page.getByTestId("suite-ai-reject").click();
        await page.getByTestId("suite-ai-panel").waitFor({ state: "detached", timeout: WAIT });
        out.after = await documentOf(page);
      } else {
        await page.getByTestId("suite-ai-accept").click();
        await page.getByTestId("suite-ai-panel").waitFor({ state: "detached", timeout: WAIT });
        out.after = await documentOf(page);
        await page.locator(".bn-editor").focus();
        await page.keyboard.press("Control+z");
        await waitUntil(
          page,
          (expected) => JSON.stringify(window.suiteAiEditor.document.map((b) => b.content)) === expected,
          JSON.stringify(out.before.map((b) => b.content)),
          5000,
        ).catch(() => undefined);
        out.undone = await documentOf(page);
      }
    }
    out.ok = true;
  } catch (error) {
    out.ok = false;
    out.failure = String(error?.stack ?? error);
    if (page) {
      mkdirSync(artifacts, { recursive: true });
      const stem = join(artifacts, `${scenario}-${args.action ?? "action"}-${Date.now()}`);
      await page.screenshot({ path: `${stem}.png`, fullPage: true }).catch(() => undefined);
      writeFileSync(`${stem}.txt`, await page.locator("body").innerText().catch(() => ""));
      out.screenshot = `${stem}.png`;
      out.events = await page.evaluate(() => window.suiteAiEvents).catch(() => null);
    }
  } finally {
    await browser.close();
    process.stdout.write(`${JSON.stringify(out)}\n`);
  }
}

await main();
